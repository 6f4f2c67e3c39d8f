"""Reply templates: the quality office maintains them per process; the case page offers them in the
resolve, return and comment forms, in the reader's language, filled in by a static script."""

from __future__ import annotations

from processes.models import ReplyTemplate, ServiceProcess
from tests.processes_admin.conftest import case_url

ADD = "/admin/processes/replytemplate/add/"


def test_the_quality_office_adds_a_template_and_staff_may_not(cases, login):
    process = ServiceProcess.objects.get(code="COMPLAINT")
    data = {
        "process": process.pk,
        "kind": "comment",
        "title": "已回电",
        "text_zh": "已电话联系客户，客户表示理解。",
        "text_en": "Called the customer back; they understand.",
        "is_active": "on",
        "order": 0,
    }

    assert login("call_center_lead").post(ADD, data).status_code == 403
    response = login("quality_officer").post(ADD, data)

    assert response.status_code == 302
    assert ReplyTemplate.objects.get().title == "已回电"


def test_the_case_page_offers_the_processs_templates_in_the_readers_language(cases, login):
    process = ServiceProcess.objects.get(code="COMPLAINT")
    ReplyTemplate.objects.create(
        process=process,
        kind="comment",
        title="已回电",
        text_zh="已电话联系客户。",
        text_en="Called the customer.",
    )
    ReplyTemplate.objects.create(
        process=process, kind="resolution", title="停用", text_zh="旧模板", is_active=False
    )
    other = ServiceProcess.objects.exclude(pk=process.pk).first()
    ReplyTemplate.objects.create(process=other, kind="comment", title="别的流程", text_zh="不应出现")
    case = cases.open()
    client = login("call_center_agent")

    chinese = client.get(case_url(case)).content.decode()
    english = client.get(case_url(case), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'data-target="comment-text"' in chinese and 'data-text="已电话联系客户。"' in chinese
    assert 'data-text="Called the customer."' in english
    assert "旧模板" not in chinese and "不应出现" not in chinese
    assert "processes/desk.js" in chinese
