"""The staff's pages as they run in production, in a real browser, on a laptop and on a phone.

A gunicorn server on production settings (config/settings/production.py: DEBUG off, whitenoise's
manifest storage, the content security policy `script-src 'self'`) serves a demo bank built by
`seed_demo` in a database of its own. Debian's Chromium (/usr/bin/chromium, never a downloaded
browser) opens, at 1366 × 768 and at 390 × 844, in Chinese: a department's queue, a case page, the
scorecard while changing department and period, the handoff-flow heat map, a review, an inspection
record; then every rendered e-mail of tests/notifications/golden (what the mail backend received, kept
in step with the code by tests/notifications/test_rendered_emails.py) at 390 px.

Each page fails the test on a CSP violation or any other error in the console, a JavaScript error, a
horizontal scrollbar on the queue, or English left untranslated on the Chinese page; each e-mail when
its action link is not on the first screen of a phone. Screenshots of every step are kept in
test-output/browser/production/<width>/ for a person to look at.

Nothing here touches the test database: the server has its own, so this module needs no django_db.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
ROOT = Path(settings.BASE_DIR)
SHOTS = ROOT / "test-output" / "browser" / "production"
GOLDEN = ROOT / "tests" / "notifications" / "golden"
PASSWORD = "demo"
VIEWPORTS = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}

# Latin words that belong on a Chinese page: names of the product and of measures, units, and the
# demo's data (usernames, references). Anything else in Latin letters is a string left untranslated.
# fmt: off
ALLOWED_WORDS = {
    "baton", "sla", "kpi", "kpis", "nps", "csat", "qa", "p90", "id", "api", "it", "atm", "app", "sms",
    "wechat", "csv", "xlsx", "django", "webhook",
}
# fmt: on
USERNAME = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b", re.IGNORECASE)  # call_center_agent, QUALITY_OFFICER
REFERENCE = re.compile(r"\b[A-Z]{2,6}-\d{6}-\d{6,9}\b")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium; .ci/run does)",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)  # noqa: S603
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    """gunicorn on production settings over a demo database of its own; yields its base URL."""
    pytest.importorskip("playwright.sync_api")
    pytest.importorskip("gunicorn")
    folder = tmp_path_factory.mktemp("production")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    base.update(
        DATABASE_URL=f"sqlite:///{folder / 'baton.sqlite3'}",
        DJANGO_STATIC_ROOT=str(folder / "static"),
    )
    python = sys.executable
    # The same customer-data keys for the seeding (local settings) and the server (production).
    base["BATON_CUSTOMER_KEYS"] = base64.urlsafe_b64encode(os.urandom(32)).decode()
    base["BATON_CUSTOMER_INDEX_KEY"] = secrets.token_urlsafe(32)
    local = {**base, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    _run([python, "manage.py", "migrate", "--noinput"], local)
    _run([python, "manage.py", "seed_demo", "--cases", "80"], local)
    port = _free_port()
    production = {
        **base,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "localhost",
        # Plain HTTP on the loopback: no redirect to https. Chromium keeps Secure cookies on localhost.
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        # The demo users have no TOTP devices; the second factor has its own tests
        # (tests/security), this one looks at the pages under the production CSP.
        "BATON_REQUIRE_TOTP": "false",
    }
    _run([python, "manage.py", "collectstatic", "--noinput", "-v", "0"], production)
    log = (folder / "gunicorn.log").open("w")
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [python, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2", "--timeout", "60"],
        cwd=ROOT,
        env=production,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert process.poll() is None, (folder / "gunicorn.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "gunicorn did not answer /healthz within 60 s"
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Screen:
    """One member of staff on one device: a browser context of their own that records what the
    console and the page say, and fails a step on any of it."""

    def __init__(self, chromium, base_url: str, device: str, username: str):
        self.device, self.base_url = device, base_url
        self.context = chromium.new_context(
            locale="zh-CN",
            extra_http_headers={"Accept-Language": "zh-Hans,zh;q=0.9"},
            viewport=VIEWPORTS[device],
        )
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"JavaScript error: {error}"))
        self.page.on("response", self._response)
        (SHOTS / device).mkdir(parents=True, exist_ok=True)
        self._log_in(username)

    def _console(self, message) -> None:
        if message.type in ("error", "warning") or "Content Security Policy" in message.text:
            self.problems.append(f"console {message.type}: {message.text}")

    def _response(self, response) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def _log_in(self, username: str) -> None:
        page = self.go("/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("#login-form input[type=submit]")
        page.wait_for_url(re.compile(r"/admin/$"))

    def go(self, path: str):
        self.page.goto(self.base_url + path)
        self.page.wait_for_load_state("load")
        return self.page

    def check(self, name: str, *, no_horizontal_scroll: bool = False) -> None:
        """Screenshot, then the page's faults: console and script errors, untranslated words, a page
        wider than the window, and (where asked) a list that scrolls sideways inside its box."""
        page = self.page
        page.screenshot(path=str(SHOTS / self.device / f"{name}.png"), full_page=True)
        assert page.locator("html").get_attribute("lang") == "zh-hans", name
        problems, self.problems = self.problems, []
        assert not problems, f"{self.device} {name}: " + "\n".join(problems)
        english = untranslated(page.locator("body").inner_text())
        assert not english, f"{self.device} {name}: untranslated {english}"
        wide = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert wide[0] <= wide[1], (
            f"{self.device} {name}: the page scrolls sideways {wide}: {self._too_wide()}"
        )
        if no_horizontal_scroll:
            widths = page.evaluate(
                """() => {
                    const doc = document.documentElement;
                    const results = document.querySelector('#changelist .results');
                    return {page: doc.scrollWidth, window: doc.clientWidth,
                            table: results ? results.scrollWidth : 0, box: results ? results.clientWidth : 0};
                }"""
            )
            assert widths["page"] <= widths["window"], f"{self.device} {name}: page scrolls sideways {widths}"
            assert widths["table"] <= widths["box"], (
                f"{self.device} {name}: the list scrolls sideways {widths}"
            )

    def detail(self, name: str, selector: str) -> None:
        """A screenshot of one part of the page, readable at its own size."""
        self.page.locator(selector).first.screenshot(path=str(SHOTS / self.device / f"{name}.png"))

    def _too_wide(self) -> list[str]:
        """The outermost elements that stick out on the right: what to fix."""
        return self.page.evaluate(
            """() => {
                const limit = document.documentElement.clientWidth;
                const out = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > limit + 1);
                return out.filter(e => !out.includes(e.parentElement)).slice(0, 5)
                    .map(e => `${e.tagName.toLowerCase()}.${e.className} (${Math.round(e.getBoundingClientRect().right)})`);
            }"""
        )

    def close(self) -> None:
        self.context.close()


def untranslated(text: str) -> list[str]:
    """Runs of two or more Latin words, or a Latin word not on the allowed list, in a Chinese page."""
    text = REFERENCE.sub(" ", USERNAME.sub(" ", text))
    text = re.sub(r"\S+@\S+|https?://\S+", " ", text)
    words = re.findall(r"[A-Za-z][A-Za-z'’]+", text)
    return sorted({w for w in words if w.lower() not in ALLOWED_WORDS})


def _hrefs(page, pattern: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    return [h for h in hrefs if re.search(pattern, h)]


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_staff_pages_under_production_settings(server, chromium, device):
    # -- a department's queue and a case page, as its agent ----------------------------------------
    agent = Screen(chromium, server, device, "card_center_agent")
    page = agent.go("/admin/")
    assert "待办队列" in page.locator("#content-main").inner_text()  # the menu says what the page says
    agent.check("01_admin_index")

    page = agent.go("/admin/processes/handoff/")
    assert page.locator("h1").inner_text().startswith("待办队列")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() > 0
    assert not re.search(r"-\d+:\d\d", page.locator("#result_list").inner_text())  # "已超时 …", not "-692:10"
    agent.check("02_queue", no_horizontal_scroll=True)
    agent.detail("02_queue_list", "#changelist .results")

    rows.first.locator("td.field-case_link a, th.field-case_link a").first.click()
    page.wait_for_url(re.compile(r"/admin/processes/case/\d+/change/$"))
    assert page.locator(".case-timeline tbody tr").count() > 0
    agent.check("03_case_page")
    agent.detail("03_case_timeline", ".case-timeline")
    agent.close()

    # A lead on an accepted handoff of the department: every action card, the hand-over included.
    lead = Screen(chromium, server, device, "card_center_lead")
    page = lead.go("/admin/processes/handoff/")
    page.locator("#result_list tbody tr").first.locator(
        "td.field-case_link a, th.field-case_link a"
    ).first.click()
    page.wait_for_url(re.compile(r"/admin/processes/case/\d+/change/$"))
    accept = page.locator("button:has-text('签收'), input[value='签收']")
    if accept.count():
        accept.first.click()
        page.wait_for_load_state("load")
    assert "转交给同事" in page.locator(".case-actions").inner_text()
    lead.check("03c_case_page_lead")
    lead.detail("03c_case_actions", ".case-actions")
    lead.close()

    # -- the live operations page of a lead: its body refreshed by its static script ---------------
    lead = Screen(chromium, server, device, "card_center_lead")
    page = lead.go("/admin/processes/handoff/live/?every=2")
    assert page.locator("#live-table tbody tr.live-row").count() == 1
    assert page.locator("svg.live-chart").count() == 1
    page.wait_for_selector("#live-body[data-refreshed-at]", timeout=15_000)  # fetched and swapped in
    assert page.locator("#live-table tbody tr.live-row").count() == 1
    lead.check("03b_live_operations")
    lead.close()

    # -- the quality office: scorecard (department and period), heat map, review, inspection ------
    officer = Screen(chromium, server, device, "quality_officer")
    page = officer.go("/admin/evaluations/evaluation/scorecard/")
    first_period = page.locator("select[name=period]").input_value()
    assert "进行中" not in page.locator(".scorecard-summary").inner_text()  # opens on a closed period
    officer.check("04_scorecard_default")

    page.select_option("select[name=department]", "CARD_CENTER")
    page.locator(".scorecard-picker input[type=submit]").click()
    page.wait_for_url(re.compile(r"department=CARD_CENTER"))
    assert page.locator("h1").inner_text() == "部门考核看板: 信用卡中心"
    assert page.locator(".kpi-card svg.kpi-trend").count() >= 5
    officer.check("05_scorecard_card_center")

    in_progress = page.locator("select[name=period] option", has_text="进行中").get_attribute("value")
    assert in_progress and in_progress != first_period
    page.select_option("select[name=period]", in_progress)
    page.locator(".scorecard-picker input[type=submit]").click()
    page.wait_for_url(re.compile(f"period={in_progress}"))
    assert "进行中" in page.locator(".scorecard-summary").inner_text()
    periods = {t.strip() for t in page.locator(".kpi-card .kpi-period").all_inner_texts()}
    assert len(periods) == 1 and "进行中" in periods.pop()
    officer.check("06_scorecard_period_in_progress")

    page.locator(".scorecard-page a", has_text="各项指标如何计算").click()
    page.wait_for_url(re.compile(r"/evaluation/kpis/$"))
    assert page.locator(".kpi-definition").count() >= 9
    officer.check("07_kpi_definitions")

    page = officer.go("/admin/evaluations/evaluation/flow/")
    assert page.locator("table.heatmap").count() == 1
    assert "CARD_CENTER" not in page.locator("table.heatmap").inner_text()
    officer.check("08_heat_map")

    page = officer.go("/admin/evaluations/improvementreview/")
    review = _hrefs(page, r"/improvementreview/\d+/change/")
    assert review, "the demo has reviews"
    page = officer.go(review[0])
    assert page.locator(".review-page").count() == 1
    officer.check("09_review")
    officer.detail("09_review_first_scorecard", ".review-scorecard")
    officer.detail("09_review_findings", ".review-findings")

    page = officer.go("/admin/evaluations/inspection/?status=assigned")
    inspections = _hrefs(page, r"/inspection/\d+/change/")
    if not inspections:
        page = officer.go("/admin/evaluations/inspection/")
        inspections = _hrefs(page, r"/inspection/\d+/change/")
    assert inspections, "the demo has inspections"
    page = officer.go(inspections[0])
    assert page.locator(".inspection-case").is_visible()
    officer.check("10_inspection_record")
    officer.close()


def _golden_emails() -> list[tuple[str, str]]:
    """(name, html) of every e-mail in the golden files: each file holds one kind in one language,
    one message per recipient."""
    emails = []
    for path in sorted(GOLDEN.glob("*.html")):
        for index, message in enumerate(path.read_text(encoding="utf-8").split("\n" + "=" * 78 + "\n")):
            emails.append((f"{path.stem}.{index}", message.split("\n", 1)[1]))
    return emails


def test_every_email_shows_its_action_link_on_a_phones_first_screen(chromium):
    assert len({name.split(".")[0] for name, _html in _golden_emails()}) == 10  # every kind
    context = chromium.new_context(viewport=VIEWPORTS["phone"], java_script_enabled=False)
    page = context.new_page()
    (SHOTS / "email").mkdir(parents=True, exist_ok=True)
    try:
        for name, html in _golden_emails():
            page.set_content(html)
            assert page.locator('meta[name="viewport"]').count() == 1, name
            link = page.locator(".action a").first
            box = link.bounding_box()
            assert box is not None and box["y"] + box["height"] <= VIEWPORTS["phone"]["height"], (name, box)
            if ".zh-hans." in name:
                # The scenarios' own data is partly English (a cycle, an action title): not ours to translate.
                text = (
                    page.locator("body")
                    .inner_text()
                    .replace("monthly review", "")
                    .replace("Intake checklist", "")
                )
                assert not untranslated(text), f"{name}: untranslated {untranslated(text)}"
            width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            assert width[0] <= width[1], f"{name} is wider than the phone: {width}"
            if name.endswith(".0"):
                page.screenshot(path=str(SHOTS / "email" / f"{name.rsplit('.', 1)[0]}.png"), full_page=True)
    finally:
        context.close()
