"""The case page: scope, masked customer data, the SLA beside the regulatory deadline, the handoffs,
the timeline, and exactly the action forms the user may use now."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from processes import services
from processes.models import Case, CaseEvent
from tests.processes_admin.conftest import case_url, open_handoff, user

pytestmark = pytest.mark.django_db


# The actions these tests are about; a newer action's own test module says where it is offered.
ACTIONS = {
    "accept",
    "claim",
    "resume",
    "pause",
    "forward",
    "resolve",
    "decide_compensation",
    "return",
    "close",
    "reopen",
    "extend_deadline",
    "cancel",
    "comment",
}


def offered(response) -> set[str]:
    return {row["action"] for row in response.context["action_forms"]} & ACTIONS


def test_an_agent_sees_the_customer_masked_in_the_page_and_the_list(cases, login):
    case = cases.open(name="张小三", phone="13812345678")
    client = login("call_center_agent")

    for url in (case_url(case), "/admin/processes/case/"):
        html = client.get(url).content.decode()
        assert "张*三" in html
        assert "138****5678" in html
        assert "张小三" not in html
        assert "13812345678" not in html
        assert "110101199001011234" not in html


def test_a_user_with_the_pii_permission_sees_the_customer_unmasked(cases, login):
    case = cases.open(name="张小三", phone="13812345678")
    lead = user("call_center_lead")
    lead.user_permissions.add(Permission.objects.get(codename="view_customer_pii"))

    for username in ("call_center_lead", "quality_officer"):
        html = login(username).get(case_url(case)).content.decode()
        assert "张小三" in html
        assert "13812345678" in html
        assert "张*三" not in html


def test_a_case_that_never_passed_through_the_users_department_does_not_exist_for_them(cases, login):
    case = cases.at_card_center()

    assert login("risk_agent").get(case_url(case)).status_code == 404
    assert login("risk_agent").get("/admin/processes/case/").context["cl"].result_count == 0
    # The departments it passed through, and those who see everything, do see it.
    for username in ("call_center_agent", "card_center_agent", "quality_officer", "auditor"):
        assert login(username).get(case_url(case)).status_code == 200


def test_the_case_list_is_scoped_to_the_users_departments(cases, login):
    mine = cases.open()
    theirs = cases.open(process="REGULATOR_COMPLAINT", actor="compliance_agent")  # intake at compliance

    listed = login("call_center_agent").get("/admin/processes/case/").context["cl"].result_list

    assert [c.reference for c in listed] == [mine.reference]
    assert theirs.reference in login("compliance_agent").get("/admin/processes/case/").content.decode()


def test_the_page_shows_the_sla_beside_the_regulatory_deadline_the_handoffs_and_the_timeline(cases, login):
    case = cases.at_card_center()
    services.case_comment(case=case, actor=user("call_center_agent"), text="客户来电催办")

    response = login("card_center_agent").get(case_url(case))

    page = response.context["page"]
    assert page.current.handoff.sla.badge == "on_time"
    assert page.regulatory_days_left == 15
    assert [row.to_label for row in page.handoffs] == ["客服中心", "信用卡中心"]
    assert [e.event.kind for e in page.timeline] == [
        CaseEvent.Kind.CREATED,
        CaseEvent.Kind.HANDOFF_REQUESTED,
        CaseEvent.Kind.HANDOFF_ACCEPTED,
        CaseEvent.Kind.HANDOFF_COMPLETED,
        CaseEvent.Kind.HANDOFF_REQUESTED,
        CaseEvent.Kind.COMMENT,
    ]
    html = response.content.decode()
    assert case.regulatory_deadline.isoformat() in html
    assert 'id="case-sla-badge"' in html
    assert "客户来电催办" in html
    assert "请核实年费" in html  # the forwarding note


def test_a_pending_handoff_offers_accept_return_and_claim_to_the_receiving_department(cases, login):
    case = cases.at_card_center()

    assert offered(login("card_center_agent").get(case_url(case))) == {
        "accept",
        "return",
        "claim",
        "cancel",
        "comment",
    }
    # The lead of the current department may also grant the first deadline extension.
    assert "extend_deadline" in offered(login("card_center_lead").get(case_url(case)))
    # The sending department only comments now.
    assert offered(login("call_center_agent").get(case_url(case))) == {"comment"}


def test_an_accepted_handoff_offers_forward_pause_and_resolve(cases, login):
    case = cases.at_card_center(accepted=True)

    response = login("card_center_agent").get(case_url(case))

    assert offered(response) == {"forward", "pause", "resolve", "return", "cancel", "comment"}
    forward = next(row["form"] for row in response.context["action_forms"] if row["action"] == "forward")
    assert {code for code, _ in forward.fields["to_stage"].choices} == {
        "RISK_REVIEW",
        "COMPLIANCE_REVIEW",
        "CALL_BACK",
        "INVESTIGATE_LENDING",
        "INVESTIGATE_BRANCH",
    }


def test_a_paused_handoff_offers_resume_not_pause(cases, login):
    case = cases.at_card_center(accepted=True)
    services.handoff_pause(handoff=open_handoff(case), actor=user("card_center_agent"), cause="external")

    actions = offered(login("card_center_agent").get(case_url(case)))

    assert "resume" in actions
    assert "pause" not in actions


def test_the_intake_cannot_be_returned_and_a_stage_that_cannot_resolve_offers_no_resolve(cases, login):
    intake = cases.open()
    assert "return" not in offered(login("call_center_agent").get(case_url(intake)))

    case = cases.at_card_center(accepted=True)
    services.case_forward(case=case, to_stage="RISK_REVIEW", actor=user("card_center_agent"))
    services.handoff_accept(handoff=open_handoff(case), actor=user("risk_agent"))
    assert offered(login("risk_agent").get(case_url(case))) == {
        "forward",
        "pause",
        "return",
        "cancel",
        "comment",
    }


def test_a_resolved_case_offers_close_after_the_call_back_is_accepted_and_reopen(cases, login):
    case = cases.resolved()
    client = login("call_center_agent")
    assert offered(client.get(case_url(case))) == {"accept", "claim", "return", "reopen", "comment"}

    services.handoff_accept(handoff=open_handoff(case), actor=user("call_center_agent"))
    assert offered(client.get(case_url(case))) >= {"close", "reopen"}


def test_a_compensation_awaiting_approval_offers_the_decision_to_the_approver(cases, login):
    case = cases.at_card_center(accepted=True)
    services.case_resolve(
        case=case,
        actor=user("card_center_agent"),
        resolution="赔付盗刷损失",
        recovery_measure=Case.Recovery.COMPENSATION,
        compensation_amount="1200.00",
    )

    assert offered(login("compliance_agent").get(case_url(case))) >= {"decide_compensation", "accept"}
    assert "return" not in offered(login("compliance_agent").get(case_url(case)))
    assert "decide_compensation" not in offered(login("card_center_agent").get(case_url(case)))


def test_the_auditor_reads_everything_and_gets_no_action_forms(cases, login):
    case = cases.at_card_center(accepted=True)

    response = login("auditor").get(case_url(case))

    assert response.status_code == 200
    assert offered(response) == set()
    assert 'class="no-actions"' in response.content.decode()


def test_nobody_edits_or_deletes_a_case_row_in_the_admin(cases, login):
    case = cases.open()
    client = login("admin")  # the superuser

    html = client.get(case_url(case)).content.decode()
    assert 'name="_save"' not in html
    assert client.post(case_url(case), {"title": "changed"}).status_code == 403
    assert client.post(f"/admin/processes/case/{case.pk}/delete/").status_code == 403
    case.refresh_from_db()
    assert case.title == "信用卡年费争议"


def test_the_page_renders_in_chinese_by_default_and_in_english_on_request(cases, login):
    case = cases.open()
    client = login("call_center_agent")

    assert '<html lang="zh-hans"' in client.get(case_url(case)).content.decode()
    assert '<html lang="en"' in client.get(case_url(case), HTTP_ACCEPT_LANGUAGE="en").content.decode()


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_case_page_costs_the_same_queries_for_3_or_30_events(cases, login, ago):
    agent, card_agent = user("call_center_agent"), user("card_center_agent")
    small = cases.open()
    services.case_comment(case=small, actor=agent, text="first call")
    # Thirty events over five handoffs, with a pause: forwarded, returned, forwarded again.
    big = cases.at_card_center(accepted=True, at=ago(hours=3))
    services.handoff_pause(handoff=open_handoff(big), actor=card_agent, cause="customer", at=ago(hours=2))
    services.handoff_resume(handoff=open_handoff(big), actor=card_agent, at=ago(hours=1))
    services.handoff_return(handoff=open_handoff(big), actor=card_agent, reason="缺少交易流水")
    services.handoff_accept(handoff=open_handoff(big), actor=agent)
    services.case_forward(case=big, to_stage="INVESTIGATE_CARD", actor=agent, note="已补充流水")
    while CaseEvent.objects.filter(case=big).count() < 30:
        services.case_comment(case=big, actor=agent, text="跟进")
    assert CaseEvent.objects.filter(case=small).count() == 3
    assert CaseEvent.objects.filter(case=big).count() == 30

    client = login("call_center_agent")
    client.get(case_url(small))  # warm up per-process caches
    assert count_queries(client, case_url(big)) == count_queries(client, case_url(small))


def test_the_case_list_costs_the_same_queries_for_2_or_20_cases(cases, login):
    client = login("call_center_agent")
    for _ in range(2):
        cases.at_card_center()
    client.get("/admin/processes/case/")  # warm up per-process caches
    with_2 = count_queries(client, "/admin/processes/case/")
    for _ in range(18):
        cases.open()

    assert count_queries(client, "/admin/processes/case/") == with_2


def test_the_opener_follows_a_case_it_opened_for_another_department(cases, login):
    # The call center takes a regulator's complaint on the phone; intake is compliance's.
    case = cases.open(process="REGULATOR_COMPLAINT")

    listed = login("call_center_agent").get("/admin/processes/case/").context["cl"].result_list
    page = login("call_center_agent").get(case_url(case))

    assert [c.reference for c in listed] == [case.reference]
    assert page.status_code == 200
    assert login("card_center_agent").get(case_url(case)).status_code == 404
