"""A day in the Chinese admin, in a real browser: the call center opens a complaint,
takes it in and forwards it to the card center; the card center finds it in its queue with its SLA
badge and accepts it; the quality office reads the card center's scorecard with its trend charts.

Playwright drives Debian's Chromium (/usr/bin/chromium; CI installs it in .ci/run, never with
`playwright install`) against pytest-django's live server, in a zh-CN browser. Each step leaves a
screenshot in test-output/browser/ (git-ignored) for a human to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(settings.BASE_DIR) / "test-output" / "browser"
PASSWORD = "demo"
# The SLA badge's labels in Chinese (locale/zh_Hans): on time, due soon, breached.
SLA_BADGES = ("正常", "即将到期", "已超时")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium; .ci/run does)",
    ),
    # The live server answers from another thread: the data must be committed.
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def bank():
    """The demo bank with some history: enough for queues, scorecards and their charts."""
    from departments.demo import seed_organisation
    from evaluations.demo import seed_evaluations
    from processes.demo import seed_processes
    from processes.demo_history import seed_history

    seed_organisation()
    seed_processes()
    seed_history(cases=40)
    seed_evaluations()


@pytest.fixture
def browser() -> Iterator:
    """Chromium through sync_playwright. The test reads everything from the pages and never touches
    the ORM inside it: Playwright's greenlet has contextvars of its own, where Django would open (and
    leave open) a second database connection, and where a running event loop trips Django's
    async-unsafe guard."""
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Staff:
    """One member of staff in a browser tab of their own (a context: their own cookies)."""

    def __init__(self, browser, base_url: str, username: str):
        self.context = browser.new_context(
            locale="zh-CN",
            extra_http_headers={"Accept-Language": "zh-Hans,zh;q=0.9"},
            viewport={"width": 1440, "height": 1000},
        )
        self.page = self.context.new_page()
        self.base_url, self.username = base_url, username

    def go(self, path: str):
        self.page.goto(self.base_url + path)
        return self.page

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def log_in(self, shot: str | None = None) -> None:
        page = self.go("/admin/login/")
        assert page.locator("html").get_attribute("lang") == "zh-hans"
        page.fill("#id_username", self.username)
        page.fill("#id_password", PASSWORD)
        if shot:
            self.shot(shot)
        page.click("#login-form input[type=submit]")
        page.wait_for_url(re.compile(r"/admin/$"))
        assert "Baton · 跨部门服务协同" in page.inner_text("#site-name")

    def act(self, action: str, **fields: str) -> str:
        """Submit one action card of the case page; returns the message it answered with."""
        page = self.page
        form = page.locator(f"form#action-{action}")
        for name, value in fields.items():
            field = form.locator(f"[name='{action}-{name}']")
            if field.evaluate("node => node.tagName") == "SELECT":
                field.select_option(value)
            else:
                field.fill(value)
        form.locator("input[type=submit]").click()
        page.wait_for_load_state()
        return page.locator("ul.messagelist li").last.inner_text()


def test_a_complaint_crosses_two_departments_in_the_chinese_admin(live_server, bank, browser):
    # -- the call center opens the complaint, takes it in and forwards it to the card center ------
    call_center = Staff(browser, live_server.url, "call_center_agent")
    call_center.log_in(shot="01_login_page_zh")
    call_center.shot("02_admin_index_call_center_agent")

    page = call_center.go("/admin/processes/case/add/")
    assert page.locator("h1").inner_text() == "新建工单"
    page.select_option("#id_process", label="客户投诉处理")
    page.fill("#id_title", "信用卡年费重复扣收")
    page.select_option("#id_channel", "phone")
    page.fill("#id_description", "客户来电称本年度年费被扣收两次, 要求退还。")
    page.fill("#id_customer_name", "赵小明")
    page.fill("#id_customer_phone", "13612345678")
    page.fill("#id_note", "客户情绪较急, 请尽快核实。")
    call_center.shot("03_open_case_form_filled")
    page.locator("#content-main input[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/admin/processes/case/\d+/change/$"))
    case_url = page.url
    opened = re.search(r"工单 (CMP-\d{6}-\d{6,9}) 已创建。", page.locator("ul.messagelist").inner_text())
    assert opened, page.locator("ul.messagelist").inner_text()
    reference = opened.group(1)
    assert page.locator("h1").inner_text() == f"{reference} · 信用卡年费重复扣收"
    # The customer is masked for staff: 赵小明 → 赵*明, 136****5678.
    assert page.locator("dd.customer-name").inner_text() == "赵*明"
    assert page.locator("dd.customer-phone").inner_text() == "136****5678"
    call_center.shot("04_case_opened_intake_pending")

    assert call_center.act("accept") == "已签收，处理计时开始。"
    call_center.shot("05_intake_accepted_by_call_center")

    message = call_center.act("forward", to_stage="INVESTIGATE_CARD", note="请核实年费扣收记录")
    assert message == "已转办至信用卡中心。"
    assert "信用卡中心调查" in page.locator(".case-clocks").inner_text()
    call_center.shot("06_forwarded_to_card_center")

    # -- the card center finds it in its queue, with the SLA badge, and accepts it ----------------
    card_center = Staff(browser, live_server.url, "card_center_agent")
    card_center.log_in()
    page = card_center.go("/admin/processes/handoff/")
    assert "待办队列" in page.locator("h1").inner_text()
    row = page.locator("#result_list tbody tr", has_text=reference)
    assert row.count() == 1
    badge = row.locator(".sla-badge")
    assert badge.is_visible() and badge.inner_text() in SLA_BADGES
    card_center.shot("07_card_center_queue_with_sla_badges")

    row.locator("a", has_text=reference).click()
    page.wait_for_url(case_url)
    card_center.shot("08_case_page_at_card_center_before_accepting")
    assert card_center.act("accept") == "已签收，处理计时开始。"
    assert page.locator("#case-sla-badge").inner_text() in SLA_BADGES
    assert "信用卡中心" in page.locator(".case-clocks").inner_text()
    card_center.shot("09_accepted_by_card_center_sla_badge")

    page = card_center.go("/admin/processes/handoff/")
    row = page.locator("#result_list tbody tr", has_text=reference)
    assert row.locator(".sla-badge").inner_text() in SLA_BADGES
    assert "已签收" in row.inner_text()
    card_center.shot("10_card_center_queue_after_accepting")

    # -- the quality office reads the card center's scorecard: its charts are drawn ---------------
    officer = Staff(browser, live_server.url, "quality_officer")
    officer.log_in()
    page = officer.go("/admin/evaluations/evaluation/scorecard/?department=CARD_CENTER")
    assert page.locator("h1").inner_text() == "部门考核看板: 信用卡中心"
    charts = page.locator(".kpi-card svg.kpi-trend")
    assert charts.count() >= 5
    for index in range(charts.count()):
        box = charts.nth(index).bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 50, (index, box)
    # Real data, not empty frames: points on the lines.
    assert page.locator(".kpi-card svg.kpi-trend circle").count() > 0
    officer.shot("11_card_center_scorecard_charts")

    page = officer.go("/admin/evaluations/evaluation/flow/")
    assert page.locator("h1").inner_text() == "跨部门交接流向"
    officer.shot("12_handoff_flow_heat_map")
