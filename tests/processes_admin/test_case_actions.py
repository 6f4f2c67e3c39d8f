"""Each form of the case page posts to its own admin URL, which calls the service: success changes the
state and says so; a refusal (wrong state, missing reason, wrong department) says why and changes
nothing."""

from decimal import Decimal

import pytest

from processes import services
from processes.models import Case, CaseEvent, Handoff, PauseSegment
from tests.processes_admin.conftest import action_url, case_url, open_handoff, refused, succeeded, user

pytestmark = pytest.mark.django_db


def events(case: Case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))


def test_accept(cases, login):
    case = cases.open()
    handoff = open_handoff(case)

    response = login("call_center_agent").post(action_url(case, "accept"), {"accept-handoff": handoff.pk})

    assert succeeded(response)
    assert response.url == case_url(case)
    handoff.refresh_from_db()
    assert handoff.status == Handoff.Status.ACCEPTED
    assert handoff.accepted_by == user("call_center_agent")
    case.refresh_from_db()
    assert case.status == Case.Status.IN_PROGRESS


def test_accepting_twice_is_refused_and_changes_nothing(cases, login):
    case = cases.accepted_intake()
    handoff = open_handoff(case)
    before = events(case)

    response = login("call_center_agent").post(
        action_url(case, "accept"), {"accept-handoff": handoff.pk}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert refused(response)
    assert events(case) == before
    page = login("call_center_agent").get(response.url, HTTP_ACCEPT_LANGUAGE="en")
    assert "Only a pending handoff can be accepted." in page.content.decode()


def test_return_with_a_reason(cases, login):
    case = cases.at_card_center()
    handoff = open_handoff(case)

    response = login("card_center_agent").post(
        action_url(case, "return"), {"return-handoff": handoff.pk, "return-reason": "非本部门业务"}
    )

    assert succeeded(response)
    handoff.refresh_from_db()
    assert handoff.status == Handoff.Status.RETURNED
    assert handoff.return_reason == "非本部门业务"
    assert open_handoff(case).to_department.code == "CALL_CENTER"


def test_return_without_a_reason_is_refused_and_changes_nothing(cases, login):
    case = cases.at_card_center()
    handoff = open_handoff(case)
    client = login("card_center_agent")

    for data in ({"return-handoff": handoff.pk}, {"return-handoff": handoff.pk, "return-reason": "   "}):
        assert refused(client.post(action_url(case, "return"), data))

    handoff.refresh_from_db()
    assert handoff.status == Handoff.Status.PENDING


def test_forward_to_an_allowed_stage(cases, login):
    case = cases.accepted_intake()
    intake = open_handoff(case)

    response = login("call_center_agent").post(
        action_url(case, "forward"),
        {"forward-handoff": intake.pk, "forward-to_stage": "INVESTIGATE_CARD", "forward-note": "请核实"},
    )

    assert succeeded(response)
    intake.refresh_from_db()
    assert intake.status == Handoff.Status.COMPLETED
    forwarded = open_handoff(case)
    assert (forwarded.to_department.code, forwarded.to_stage.code, forwarded.note) == (
        "CARD_CENTER",
        "INVESTIGATE_CARD",
        "请核实",
    )


def test_forward_before_accepting_or_off_the_routes_is_refused(cases, login):
    case = cases.open()
    intake = open_handoff(case)
    client = login("call_center_agent")

    not_accepted = {"forward-handoff": intake.pk, "forward-to_stage": "INVESTIGATE_CARD"}
    assert refused(client.post(action_url(case, "forward"), not_accepted))
    services.handoff_accept(handoff=intake, actor=user("call_center_agent"))
    no_route = {"forward-handoff": intake.pk, "forward-to_stage": "CALL_BACK"}
    assert refused(client.post(action_url(case, "forward"), no_route))

    assert open_handoff(case).pk == intake.pk


def test_a_stale_page_does_not_forward_a_newer_handoff(cases, login):
    case = cases.at_card_center(accepted=True)
    stale = Handoff.objects.filter(case=case, status=Handoff.Status.COMPLETED).get()

    response = login("quality_officer").post(
        action_url(case, "forward"), {"forward-handoff": stale.pk, "forward-to_stage": "RISK_REVIEW"}
    )

    assert refused(response)
    assert open_handoff(case).to_stage.code == "INVESTIGATE_CARD"


def test_pause_and_resume(cases, login):
    case = cases.at_card_center(accepted=True)
    handoff = open_handoff(case)
    client = login("card_center_agent")

    paused = client.post(
        action_url(case, "pause"),
        {"pause-handoff": handoff.pk, "pause-cause": "customer", "pause-note": "等待客户提供账单"},
    )

    assert succeeded(paused)
    handoff.refresh_from_db()
    assert handoff.paused_at is not None
    assert refused(
        client.post(action_url(case, "pause"), {"pause-handoff": handoff.pk, "pause-cause": "external"})
    )

    resumed = client.post(action_url(case, "resume"), {"resume-handoff": handoff.pk})

    assert succeeded(resumed)
    handoff.refresh_from_db()
    assert handoff.paused_at is None
    assert PauseSegment.objects.get(handoff=handoff).ended_at is not None
    assert refused(client.post(action_url(case, "resume"), {"resume-handoff": handoff.pk}))


def test_claim(cases, login):
    case = cases.at_card_center()
    handoff = open_handoff(case)

    assert succeeded(
        login("card_center_agent").post(action_url(case, "claim"), {"claim-handoff": handoff.pk})
    )
    handoff.refresh_from_db()
    assert handoff.assignee == user("card_center_agent")
    assert refused(login("card_center_lead").post(action_url(case, "claim"), {"claim-handoff": handoff.pk}))


def test_resolve_with_a_recovery_measure(cases, login):
    case = cases.at_card_center(accepted=True)

    response = login("card_center_agent").post(
        action_url(case, "resolve"),
        {"resolve-resolution": "年费已退还", "resolve-recovery_measure": "fee_waiver"},
    )

    assert succeeded(response)
    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED
    assert case.recovery_measure == Case.Recovery.FEE_WAIVER
    assert open_handoff(case).to_stage.code == "CALL_BACK"


def test_resolve_with_a_compensation_but_no_amount_is_refused(cases, login):
    case = cases.at_card_center(accepted=True)

    response = login("card_center_agent").post(
        action_url(case, "resolve"),
        {"resolve-resolution": "赔付", "resolve-recovery_measure": "compensation"},
    )

    assert refused(response)
    case.refresh_from_db()
    assert case.status == Case.Status.IN_PROGRESS


def test_a_large_compensation_is_approved_by_compliance(cases, login):
    case = cases.at_card_center(accepted=True)
    resolved = login("card_center_agent").post(
        action_url(case, "resolve"),
        {
            "resolve-resolution": "赔付盗刷损失",
            "resolve-recovery_measure": "compensation",
            "resolve-compensation_amount": "1200.00",
        },
    )
    assert succeeded(resolved)
    case.refresh_from_db()
    assert case.compensation_approval == Case.Approval.PENDING
    client = login("compliance_agent")

    assert refused(
        client.post(action_url(case, "decide_compensation"), {"decide_compensation-decision": "reject"})
    )
    approved = client.post(
        action_url(case, "decide_compensation"), {"decide_compensation-decision": "approve"}
    )

    assert succeeded(approved)
    case.refresh_from_db()
    assert (case.status, case.compensation_approval, case.compensation_amount) == (
        Case.Status.RESOLVED,
        Case.Approval.APPROVED,
        Decimal("1200.00"),
    )


def test_close_after_the_call_back(cases, login):
    case = cases.resolved()
    client = login("call_center_agent")

    assert refused(client.post(action_url(case, "close")))  # the call-back handoff is not accepted yet
    call_back = open_handoff(case)
    assert succeeded(client.post(action_url(case, "accept"), {"accept-handoff": call_back.pk}))
    assert succeeded(client.post(action_url(case, "close")))

    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED


def test_reopen_needs_a_reason(cases, login):
    case = cases.closed()
    client = login("call_center_agent")

    assert refused(client.post(action_url(case, "reopen"), {"reopen-reason": ""}))
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED

    assert succeeded(client.post(action_url(case, "reopen"), {"reopen-reason": "客户不认可处理结果"}))
    case.refresh_from_db()
    assert (case.status, case.reopen_count) == (Case.Status.IN_PROGRESS, 1)
    assert open_handoff(case).to_department.code == "CARD_CENTER"


def test_cancel_needs_a_reason_and_an_open_case(cases, login):
    case = cases.open()
    client = login("call_center_agent")

    assert refused(client.post(action_url(case, "cancel"), {}))
    assert succeeded(client.post(action_url(case, "cancel"), {"cancel-reason": "客户撤诉"}))
    case.refresh_from_db()
    assert case.status == Case.Status.CANCELLED
    assert not Handoff.objects.filter(case=case, status__in=Handoff.OPEN_STATUSES).exists()
    assert refused(client.post(action_url(case, "cancel"), {"cancel-reason": "again"}))


def test_comment(cases, login):
    case = cases.at_card_center()
    client = login("call_center_agent")  # a department the case passed through

    assert succeeded(client.post(action_url(case, "comment"), {"comment-text": "客户再次来电"}))
    assert refused(client.post(action_url(case, "comment"), {"comment-text": ""}))

    comments = CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.COMMENT)
    assert [e.payload["text"] for e in comments] == ["客户再次来电"]


def test_the_lead_extends_the_regulatory_deadline(cases, login):
    case = cases.open()
    before = case.regulatory_deadline

    assert refused(
        login("call_center_agent").post(
            action_url(case, "extend_deadline"), {"extend_deadline-reason": "复杂"}
        )
    )
    response = login("call_center_lead").post(
        action_url(case, "extend_deadline"), {"extend_deadline-reason": "案情复杂"}
    )

    assert succeeded(response)
    case.refresh_from_db()
    assert (case.regulatory_deadline - before).days == 15
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.DEADLINE_EXTENDED).exists()


def test_another_department_cannot_act_on_a_handoff_it_can_see(cases, login):
    case = cases.at_card_center()
    handoff = open_handoff(case)

    response = login("call_center_agent").post(action_url(case, "accept"), {"accept-handoff": handoff.pk})

    assert refused(response)
    handoff.refresh_from_db()
    assert handoff.status == Handoff.Status.PENDING


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("accept", {"accept-handoff": "HANDOFF"}),
        ("claim", {"claim-handoff": "HANDOFF"}),
        ("return", {"return-handoff": "HANDOFF", "return-reason": "audit"}),
        ("comment", {"comment-text": "audit"}),
        ("cancel", {"cancel-reason": "audit"}),
        ("extend_deadline", {"extend_deadline-reason": "audit"}),
    ],
)
def test_every_post_of_the_auditor_is_refused_by_the_services(cases, login, action, data):
    case = cases.at_card_center()
    handoff = open_handoff(case)
    before = events(case)
    data = {key: handoff.pk if value == "HANDOFF" else value for key, value in data.items()}

    response = login("auditor").post(action_url(case, action), data)

    assert refused(response)
    assert events(case) == before
    handoff.refresh_from_db()
    assert (handoff.status, handoff.assignee_id) == (Handoff.Status.PENDING, None)


def test_actions_outside_the_users_scope_are_404_and_gets_are_not_allowed(cases, login):
    case = cases.at_card_center()
    handoff = open_handoff(case)

    assert (
        login("risk_agent").post(action_url(case, "accept"), {"accept-handoff": handoff.pk}).status_code
        == 404
    )
    assert login("card_center_agent").get(action_url(case, "accept")).status_code == 405
    assert login("card_center_agent").post(action_url(case, "explode")).status_code == 404
    handoff.refresh_from_db()
    assert handoff.status == Handoff.Status.PENDING


def test_opening_a_case_in_the_admin_goes_through_the_service(demo, login):
    from processes.models import ServiceProcess

    client = login("call_center_agent")
    process = ServiceProcess.objects.get(code="COMPLAINT")

    response = client.post(
        "/admin/processes/case/add/",
        {
            "process": process.pk,
            "title": "网点排队时间过长",
            "channel": "branch",
            "priority": "high",
            "customer_name": "李四",
            "customer_phone": "13900001111",
        },
    )

    case = Case.objects.get(title="网点排队时间过长")
    assert response.status_code == 302
    assert response.url == case_url(case)
    assert case.reference.startswith("CMP-")
    assert open_handoff(case).to_department.code == "CALL_CENTER"
    assert events(case) == [CaseEvent.Kind.CREATED, CaseEvent.Kind.HANDOFF_REQUESTED]


def test_opening_a_case_needs_the_add_permission(demo, login):
    assert login("auditor").get("/admin/processes/case/add/").status_code == 403
    assert login("call_center_agent").get("/admin/processes/case/add/").status_code == 200
