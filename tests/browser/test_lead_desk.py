"""A lead's desk in a real browser at 1366 × 768, in Chinese: the call center's lead filters the queue
on "mine", saves that view, bulk-assigns the unassigned handoffs to an agent, attaches a PDF to a case,
downloads it again, and comments with a reply template. Screenshots of every step are kept in test-output/browser/lead_desk/.

Playwright drives Debian's Chromium (/usr/bin/chromium, never a downloaded browser) against
pytest-django's live server; the state is built through the services before the browser starts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
SHOTS = Path(settings.BASE_DIR) / "test-output" / "browser" / "lead_desk"
PASSWORD = "demo"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium; .ci/run does)",
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def desk(settings, tmp_path) -> dict[str, str]:
    """Five complaints waiting at the call center: two given to its lead, three to nobody."""
    from django.contrib.auth import get_user_model

    from departments.demo import seed_organisation
    from processes import bulk, services
    from processes.demo import seed_processes
    from processes.models import Case, Handoff, ReplyTemplate

    settings.MEDIA_ROOT = str(tmp_path / "media")
    seed_organisation()
    processes = seed_processes()
    ReplyTemplate.objects.create(
        process=processes["COMPLAINT"],
        kind="comment",
        title="已收到材料",
        text_zh="已收到客户提供的对账单，正在核实。",
        text_en="The customer's statement has arrived; checking it.",
    )
    users = get_user_model().objects
    agent, lead = users.get(username="call_center_agent"), users.get(username="call_center_lead")
    references = []
    for i, title in enumerate(
        ["年费重复扣收", "分期手续费争议", "网银登录失败", "积分未到账", "挂失后仍被扣款"]
    ):
        case, _ = services.case_open(
            process=processes["COMPLAINT"], title=title, channel=Case.Channel.PHONE, actor=agent
        )
        references.append(case.reference)
        if i < 2:
            handoff = Handoff.objects.get(case=case, status=Handoff.Status.PENDING)
            bulk.handoff_assign(handoff=handoff, actor=lead, assignee=lead)
    return {"mine": references[:2], "free": references[2:]}


@pytest.fixture
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def test_a_lead_filters_saves_a_view_bulk_assigns_and_attaches_a_pdf(live_server, desk, browser, tmp_path):
    context = browser.new_context(
        locale="zh-CN",
        extra_http_headers={"Accept-Language": "zh-Hans,zh;q=0.9"},
        viewport={"width": 1366, "height": 768},
        accept_downloads=True,
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def go(path: str):
        page.goto(live_server.url + path)
        page.wait_for_load_state("load")

    def shot(name: str) -> None:
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def message() -> str:
        return page.locator("ul.messagelist li").last.inner_text()

    go("/admin/login/")
    page.fill("#id_username", "call_center_lead")
    page.fill("#id_password", PASSWORD)
    page.click("#login-form input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))

    # -- the queue, filtered on "mine" ------------------------------------------------------------
    go("/admin/processes/handoff/")
    shot("01_queue")
    page.locator("#changelist-filter a", has_text="我的").first.click()
    page.wait_for_url(re.compile(r"assignee=me"))
    listed = page.locator("#result_list").inner_text()
    assert all(ref in listed for ref in desk["mine"]) and not any(ref in listed for ref in desk["free"])
    shot("02_queue_mine")

    # -- saved as a view, listed among the lead's views, and opened again ---------------------------
    page.fill("#queue-view-name", "我的待办")
    page.locator("#queue-save-view input[type=submit]").click()
    page.wait_for_load_state("load")
    assert "视图已保存：我的待办" in message()
    assert "assignee=me" in page.url
    shot("03_view_saved")
    page.locator("#queue-save-view a.queue-views-link").click()
    page.wait_for_load_state("load")
    assert "我的待办" in page.locator("#result_list").inner_text()
    shot("04_my_saved_views")
    page.locator("#result_list a", has_text="打开").first.click()
    page.wait_for_url(re.compile(r"/admin/processes/handoff/\?assignee=me"))

    # -- the unassigned ones, all selected, assigned to the agent in one go -------------------------
    page.locator("#changelist-filter a", has_text="无人").first.click()
    page.wait_for_url(re.compile(r"assignee=none"))
    page.check("#action-toggle")
    page.select_option("select[name=action]", "bulk_assign")
    shot("05_bulk_selected")
    page.locator("button[name=index]").click()
    page.wait_for_url(re.compile(r"/bulk-assign/\?ids="))
    assert "已选择 3 个流转" in page.locator("#content-main").inner_text()
    page.select_option("#id_assignee", label="call_center_agent")
    shot("06_bulk_assign_form")
    page.locator("#bulk-assign-form input[type=submit]").click()
    page.wait_for_load_state("load")
    assert "完成 3 个，拒绝 0 个" in page.locator(".bulk-summary").inner_text()
    assert page.locator("#bulk-results tr.bulk-ok").count() == 3
    shot("07_bulk_result")

    # -- a PDF attached to a case, then downloaded ------------------------------------------------
    go("/admin/processes/case/")
    page.locator("#result_list a", has_text=desk["free"][0]).first.click()
    page.wait_for_url(re.compile(r"/admin/processes/case/\d+/change/$"))
    statement = tmp_path / "对账单.pdf"
    statement.write_bytes(PDF)
    page.set_input_files("#attachment-form input[type=file]", str(statement))
    page.locator("#attachment-form input[type=submit]").click()
    page.wait_for_load_state("load")
    assert "已添加文件：对账单.pdf" in message()
    assert page.locator(".case-attachments .attachment-row").count() == 1
    assert "已添加文件" in page.locator(".case-timeline").inner_text()
    shot("08_case_with_attachment")
    page.locator(".case-attachments").screenshot(path=str(SHOTS / "08_attachments_detail.png"))
    with page.expect_download() as found:
        page.locator("a.attachment-download").first.click()
    download = found.value
    assert download.suggested_filename == "对账单.pdf"
    saved = tmp_path / "downloaded.pdf"
    download.save_as(str(saved))
    assert saved.read_bytes() == PDF
    shot("09_after_download")

    # -- a reply template fills the comment form (a static script: no inline code) -------------------
    comment = page.locator("form#action-comment")
    comment.locator("select.reply-template").select_option(label="已收到材料")
    assert comment.locator("[name='comment-text']").input_value() == "已收到客户提供的对账单，正在核实。"
    shot("10_reply_template_filled")
    comment.locator("input[type=submit]").click()
    page.wait_for_load_state("load")
    assert "已收到客户提供的对账单，正在核实。" in page.locator(".case-timeline").inner_text()

    assert not errors, errors
    context.close()
