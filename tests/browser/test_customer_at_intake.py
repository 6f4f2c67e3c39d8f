"""The customer at the desk, in a real browser: an agent takes a call and types the caller's phone at
intake, sees the caller's two earlier cases (the second flagged as a repeat complaint), opens the new
case, and the customer's SMS appears in the console outbox. Screenshots in
test-output/browser/customer/ for a person to look at."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from .test_admin_in_chinese import CHROMIUM, Staff, browser  # noqa: F401 (the browser fixture)

SHOTS = settings.BASE_DIR / "test-output" / "browser" / "customer"
PHONE = "13712345678"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"),
    pytest.mark.django_db(transaction=True),
]


class Desk(Staff):
    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def caller():
    """The demo bank, and a caller who complained twice about the same thing in the last ten days."""
    from django.contrib.auth import get_user_model

    from departments.demo import seed_organisation
    from processes import services
    from processes.demo import seed_processes
    from processes.models import Case

    seed_organisation()
    processes = seed_processes()
    agent = get_user_model().objects.get(username="call_center_agent")
    now = timezone.now()
    earlier = []
    for days, title in ((10, "信用卡年费扣收有误"), (3, "年费仍未退还")):
        case, _ = services.case_open(
            process=processes["COMPLAINT"],
            title=title,
            channel=Case.Channel.PHONE,
            actor=agent,
            customer_name="钱多多",
            customer_phone=PHONE,
            at=now - timedelta(days=days),
        )
        earlier.append(case.reference)
    return earlier


def test_an_agent_finds_the_callers_history_and_the_sms_reaches_the_console_outbox(
    live_server,
    caller,
    browser,  # noqa: F811 (the fixture imported above)
):
    first, second = caller
    agent = Desk(browser, live_server.url, "call_center_agent")
    agent.log_in()

    # The call comes in: the agent types the caller's phone and looks the caller up.
    page = agent.go("/admin/processes/case/add/")
    page.fill("#id_customer_phone", "137 1234 5678")
    page.click("#customer-lookup")
    page.wait_for_load_state()
    history = page.locator("#customer-history")
    assert history.locator("tbody tr").count() == 2
    assert first in history.inner_text() and second in history.inner_text()
    flagged = history.locator("tbody tr", has=page.locator(".repeat-flag"))
    assert flagged.count() == 1 and second in flagged.inner_text()
    agent.shot("01_intake_lookup_shows_two_earlier_cases")

    # The agent opens the new case.
    page.select_option("#id_process", label="客户投诉处理")
    page.fill("#id_title", "第三次来电：年费仍未退还")
    page.select_option("#id_channel", "phone")
    page.fill("#id_customer_name", "钱多多")
    agent.shot("02_intake_form_filled")
    page.locator("#content-main input[name=_save]").click()
    page.wait_for_url(re.compile(r"/admin/processes/case/\d+/change/$"))
    reference = re.search(r"(CMP-\d{6}-\d{6,9})", page.locator("ul.messagelist").inner_text()).group(1)
    assert page.locator(".case-customer .repeat-flag").count() == 1  # the new case is a repeat too
    assert page.locator("#customer-history tbody tr").count() == 2
    agent.shot("03_new_case_flagged_repeat_with_history")

    # The SMS to the customer left through the outbox: the console gateway shows it, number masked.
    officer = Desk(browser, live_server.url, "quality_officer")
    officer.log_in()
    page = officer.go("/admin/processes/consolesms/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 3  # the two earlier intakes and this one
    newest = page.locator("#result_list tbody tr", has_text=reference)
    assert newest.count() == 1
    assert "137****5678" in newest.inner_text()
    assert PHONE not in page.content()
    officer.shot("04_console_outbox_with_the_sms")
