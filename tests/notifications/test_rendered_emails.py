"""The e-mails of every notification kind, as the recipients get them, pinned in golden files.

Each scenario builds its state through the public services only (case services, the SLA sweep, the
review run, the action reminders) at fixed times, runs the delivery of the outbox and compares what
left through the mail backend with `golden/<kind>.<language>.txt` (To, Subject and the text part)
and `.html` (the HTML alternative), sorted by recipient. Nothing here looks at how the e-mails are
stored or rendered: rendering may move from the services to the delivery without a single golden
line changing.

Whatever set-up steps sent is delivered and dropped before the step under test. Where that step
sends more than one kind (a return also hands the case back, a reopen hands it on, a first breach
escalates), the recipients' own notification preferences switch the other kind off, so each file
holds one kind.

Regenerate after an intended change of the e-mails, and review the diff:
    BATON_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/notifications/test_rendered_emails.py
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail

from departments.models import Department, Membership, UserSettings
from evaluations.reviews import services as reviews
from evaluations.reviews.emails import NotificationKind
from evaluations.reviews.models import ImprovementAction
from evaluations.services import kpi_ensure_defaults
from processes import services
from processes.models import Case, Handoff, Notification, NotificationPreference
from processes.outbox import deliver_due
from processes.sla import sla_sweep
from tests.reviews.support import ReviewWorld
from tests.support import SHANGHAI

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("BATON_UPDATE_GOLDEN") == "1"
LANGUAGES = ("zh-hans", "en")
SITE_URL = "https://baton.bank.example"
Kind = Notification.Kind
# Monday 1 June 2026, 09:30 in Shanghai: a working morning for every demo calendar, no holiday near.
T0 = datetime(2026, 6, 1, 9, 30, tzinfo=SHANGHAI)
CUSTOMER = {"customer_name": "王小明", "customer_phone": "13912345678"}
# A link to an object in the admin; its id must have been replaced by the object's role by then.
ADMIN_ID = re.compile(r"/admin/\w+/\w+/\d+/")


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


class Scene:
    """What a scenario needs: the wall clock kept at the scenario's own time (nothing may read the
    real date), delivery of the set-up's e-mails, recipients' preferences, and the ids to hide."""

    def __init__(self, request, time_machine, language: str):
        self.request, self.clock, self.language = request, time_machine, language
        self.ids: dict[str, str] = {}

    def at(self, when: datetime) -> datetime:
        self.clock.move_to(when, tick=False)
        return when

    def user(self, username: str):
        return get_user_model().objects.get(username=username)

    def demo(self):
        self.request.getfixturevalue("demo_org")
        from processes.demo import seed_processes

        return seed_processes()

    def review_world(self) -> ReviewWorld:
        # The built-in KPIs come from a data migration that a transactional test elsewhere may flush.
        kpi_ensure_defaults()
        return ReviewWorld()

    def speak(self) -> None:
        """Everybody reads the scenario's language, set where the product keeps it (the user's
        settings). Chinese is also the site default: in Chinese only the leads have a settings row,
        so both ways of reading Chinese are pinned."""
        leads = set(Membership.objects.filter(role=Membership.Role.LEAD).values_list("user_id", flat=True))
        for user in get_user_model().objects.all():
            if self.language == settings.LANGUAGE_CODE and user.pk not in leads:
                UserSettings.objects.filter(user=user).delete()
            else:
                UserSettings.objects.update_or_create(user=user, defaults={"language": self.language})

    def opt_out(self, kind: str) -> None:
        """Everybody switches this kind off, as each user can in their preferences."""
        NotificationPreference.objects.bulk_create(
            NotificationPreference(user=user, kind=kind, email=False)
            for user in get_user_model().objects.all()
        )

    def settle(self, now: datetime) -> None:
        """Deliver what the set-up sent and forget it: only the step under test is compared."""
        deliver_due(now=self.at(now))
        mail.outbox.clear()

    def case(self, case: Case) -> Case:
        self.ids[f"/processes/case/{case.pk}/"] = "/processes/case/<case>/"
        return case


# -- the process scenarios (demo organisation; the call center is open 24×7) ------------------------
def _open(scene: Scene, processes, at: datetime) -> Case:
    case, created = services.case_open(
        process=processes["COMPLAINT"],
        title="信用卡年费争议",
        channel=Case.Channel.PHONE,
        actor=scene.user("call_center_agent"),
        at=scene.at(at),
        **CUSTOMER,
    )
    assert created
    return scene.case(case)


def _open_handoff(case: Case) -> Handoff:
    return Handoff.objects.get(case=case, status__in=Handoff.OPEN_STATUSES)


def _to_card_center(scene: Scene, case: Case) -> None:
    """The call center takes the case and forwards it to the card center's investigation."""
    agent = scene.user("call_center_agent")
    services.handoff_accept(handoff=_open_handoff(case), actor=agent, at=scene.at(T0 + minutes(5)))
    services.case_forward(
        case=case,
        to_stage="INVESTIGATE_CARD",
        actor=agent,
        note="请核对ATM吞卡记录",
        at=scene.at(T0 + minutes(10)),
    )


def handoff_arrived(scene: Scene) -> datetime:
    """The forward to the card center: a handoff with a sender, a stage and a note."""
    processes = scene.demo()
    scene.speak()
    case = _open(scene, processes, T0)
    scene.settle(T0)
    _to_card_center(scene, case)
    return T0 + minutes(11)


def due_soon(scene: Scene) -> datetime:
    """The resolution clock at 80 % of a claimed handoff: only its assignee is warned."""
    processes = scene.demo()
    scene.speak()
    case = _open(scene, processes, T0)
    agent = scene.user("call_center_agent")
    services.handoff_accept(handoff=_open_handoff(case), actor=agent, at=scene.at(T0 + minutes(5)))
    services.handoff_claim(handoff=_open_handoff(case), actor=agent, at=scene.at(T0 + minutes(6)))
    scene.settle(T0 + minutes(6))
    sla_sweep(now=scene.at(T0 + minutes(100)))
    return T0 + minutes(101)


def breached(scene: Scene) -> datetime:
    """Nobody accepted the intake within 15 minutes: the whole receiving department is told."""
    processes = scene.demo()
    scene.speak()
    scene.opt_out(Kind.ESCALATED)
    _open(scene, processes, T0)
    scene.settle(T0)
    sla_sweep(now=scene.at(T0 + minutes(16)))
    return T0 + minutes(17)


def escalated_level_1(scene: Scene) -> datetime:
    """The same first breach raises the handoff to level 1: the department's leads."""
    processes = scene.demo()
    scene.speak()
    scene.opt_out(Kind.BREACHED)
    _open(scene, processes, T0)
    scene.settle(T0)
    sla_sweep(now=scene.at(T0 + minutes(16)))
    return T0 + minutes(17)


def escalated_level_2(scene: Scene, level2_after: int = 30) -> datetime:
    """Still open 30 minutes after level 1: the parent department's leads and the quality office."""
    processes = scene.demo()
    scene.request.getfixturevalue("settings").BATON_LEVEL2_AFTER_MINUTES = level2_after
    # The demo departments have no parent; give the call center one so that branch of recipients shows.
    Department.objects.filter(code="CALL_CENTER").update(parent=Department.objects.get(code="BRANCH"))
    scene.speak()
    _open(scene, processes, T0)
    sla_sweep(now=scene.at(T0 + minutes(16)))
    scene.settle(T0 + minutes(16))
    sla_sweep(now=scene.at(T0 + minutes(16 + level2_after)))
    return T0 + minutes(17 + level2_after)


def returned(scene: Scene) -> datetime:
    """The card center sends the handoff back: whoever forwarded it learns why."""
    processes = scene.demo()
    scene.speak()
    case = _open(scene, processes, T0)
    _to_card_center(scene, case)
    scene.settle(T0 + minutes(10))
    scene.opt_out(Kind.HANDOFF_ARRIVED)
    services.handoff_return(
        handoff=_open_handoff(case),
        actor=scene.user("card_center_agent"),
        reason="个贷产品，应转个人贷款部",
        at=scene.at(T0 + minutes(30)),
    )
    return T0 + minutes(31)


def reopened(scene: Scene) -> datetime:
    """A closed case reopened the next day goes back to the card center, whose leads are told."""
    processes = scene.demo()
    scene.speak()
    case = _open(scene, processes, T0)
    _to_card_center(scene, case)
    card, call = scene.user("card_center_agent"), scene.user("call_center_agent")
    services.handoff_accept(handoff=_open_handoff(case), actor=card, at=scene.at(T0 + minutes(20)))
    services.case_resolve(
        case=case,
        actor=card,
        resolution="卡片已退回，年费已退还。",
        recovery_measure=Case.Recovery.APOLOGY,
        at=scene.at(T0 + minutes(30)),
    )
    services.handoff_accept(handoff=_open_handoff(case), actor=call, at=scene.at(T0 + minutes(40)))
    services.case_close(case=case, actor=call, at=scene.at(T0 + minutes(50)))
    scene.settle(T0 + minutes(50))
    scene.opt_out(Kind.HANDOFF_ARRIVED)
    services.case_reopen(case=case, actor=call, reason="客户仍未收到退款", at=scene.at(sh(2026, 6, 2, 10)))
    return sh(2026, 6, 2, 10, 1)


def compensation_approval(scene: Scene) -> datetime:
    """A compensation above the process's threshold waits for the compliance department."""
    processes = scene.demo()
    scene.speak()
    case = _open(scene, processes, T0)
    _to_card_center(scene, case)
    card = scene.user("card_center_agent")
    services.handoff_accept(handoff=_open_handoff(case), actor=card, at=scene.at(T0 + minutes(20)))
    scene.settle(T0 + minutes(20))
    services.case_resolve(
        case=case,
        actor=card,
        resolution="多收年费，补偿客户。",
        recovery_measure=Case.Recovery.COMPENSATION,
        compensation_amount="800.00",
        at=scene.at(T0 + minutes(30)),
    )
    return T0 + minutes(31)


# -- the evaluation scenarios (tests/reviews' small world, round-the-clock) ---------------------------
def review(scene: Scene) -> datetime:
    """The November review of front and back: the back office bounced 1 of 4 in October and 2 of 4 in
    November, an action planned in October was done and is checked, another is still open; the quality
    office, an extra address and the leads are e-mailed."""
    world = scene.review_world()
    scene.speak()
    scene.at(sh(2026, 10, 15))
    cycle = world.cycle(now=sh(2026, 10, 15), extra_recipients="board@bank.example")
    world.bounces(scene.at(sh(2026, 10, 5, 10)), total=4, returned=1)
    october, _ = reviews.review_cycle_run(
        cycle=cycle, period_start=date(2026, 10, 1), at=scene.at(sh(2026, 11, 1, 8))
    )
    checked = reviews.action_create(
        review=october,
        department=world.back,
        owner=world.back_agent,
        title="退回原因培训",
        kind=ImprovementAction.Kind.TRAINING,
        kpi_code="bounce_rate",
        goal="10",
        due_date=date(2026, 11, 20),
        actor=world.officer,
        at=scene.at(sh(2026, 11, 1, 10)),
    )
    still_open = reviews.action_create(
        review=october,
        department=world.front,
        owner=world.front_agent,
        title="Intake checklist",
        kind=ImprovementAction.Kind.TRAINING,
        due_date=date(2026, 12, 15),
        actor=world.officer,
        at=scene.at(sh(2026, 11, 1, 10)),
    )
    for status in ("in_progress", "done"):
        reviews.action_change_status(
            action=checked, status=status, actor=world.back_agent, at=scene.at(sh(2026, 11, 10))
        )
    world.bounces(scene.at(sh(2026, 11, 3, 10)), total=4, returned=2)
    world.open(scene.at(sh(2026, 11, 20, 9)))
    sla_sweep(now=scene.at(sh(2026, 11, 20, 10)))
    scene.settle(sh(2026, 11, 20, 10))
    november, created = reviews.review_cycle_run(
        cycle=cycle, period_start=date(2026, 11, 1), at=scene.at(sh(2026, 12, 1, 8))
    )
    assert created
    scene.ids.update(
        {
            f"/improvementreview/{november.pk}/": "/improvementreview/<november review>/",
            f"/improvementaction/{checked.pk}/": "/improvementaction/<checked action>/",
            f"/improvementaction/{still_open.pk}/": "/improvementaction/<open action>/",
        }
    )
    return sh(2026, 12, 1, 8, 1)


def action_reminder(scene: Scene) -> datetime:
    """On 10 December: an action due on the 11th (its owner) and one due on the 7th (owner and lead)."""
    world = scene.review_world()
    scene.speak()
    scene.at(sh(2026, 10, 15))
    cycle = world.cycle(now=sh(2026, 10, 15))
    world.bounces(scene.at(sh(2026, 11, 3, 10)), total=4, returned=2)
    november, _ = reviews.review_cycle_run(
        cycle=cycle, period_start=date(2026, 11, 1), at=scene.at(sh(2026, 12, 1, 8))
    )
    soon = reviews.action_create(
        review=november,
        department=world.back,
        owner=world.back_agent,
        title="退回原因培训",
        kind=ImprovementAction.Kind.TRAINING,
        kpi_code="bounce_rate",
        goal="20",
        due_date=date(2026, 12, 11),
        actor=world.officer,
        at=scene.at(sh(2026, 12, 1, 10)),
    )
    overdue = reviews.action_create(
        review=november,
        department=world.front,
        owner=world.front_agent,
        title="Intake checklist",
        kind=ImprovementAction.Kind.PROCESS_CHANGE,
        due_date=date(2026, 12, 7),
        actor=world.officer,
        at=scene.at(sh(2026, 12, 1, 10)),
    )
    scene.settle(sh(2026, 12, 1, 10))
    reviews.actions_remind(now=scene.at(sh(2026, 12, 10, 8, 30)))
    scene.ids.update(
        {
            f"/improvementaction/{soon.pk}/": "/improvementaction/<action due soon>/",
            f"/improvementaction/{overdue.pk}/": "/improvementaction/<overdue action>/",
        }
    )
    return sh(2026, 12, 10, 8, 31)


SCENARIOS: dict[str, Callable[[Scene], datetime]] = {
    Kind.HANDOFF_ARRIVED.value: handoff_arrived,
    Kind.DUE_SOON.value: due_soon,
    Kind.BREACHED.value: breached,
    "escalated_1": escalated_level_1,
    "escalated_2": escalated_level_2,
    Kind.RETURNED.value: returned,
    Kind.REOPENED.value: reopened,
    Kind.COMPENSATION_APPROVAL.value: compensation_approval,
    NotificationKind.REVIEW.value: review,
    NotificationKind.ACTION_REMINDER.value: action_reminder,
}


# -- the comparison ---------------------------------------------------------------------------------
def _normalise(text: str, ids: dict[str, str]) -> str:
    """Database ids differ between runs and databases (PostgreSQL sequences are not rolled back), so
    each link's id is replaced by the role of the object it must point to: a link to the wrong case
    still fails, and an id the scenario does not know fails below rather than pinning a number."""
    for raw, role in ids.items():
        text = text.replace(raw, role)
    assert not ADMIN_ID.search(text), f"a link to an object the scenario does not know: {text}"
    return text


def _html(message) -> str:
    parts = [content for content, mimetype in message.alternatives if mimetype == "text/html"]
    assert len(parts) == 1, f"{message.to}: {len(parts)} HTML alternatives"
    return parts[0]


def _rendered(messages, ids: dict[str, str]) -> tuple[str, str]:
    """(text file, html file): every message sorted by recipient, then subject and body."""
    entries = sorted(
        (
            ", ".join(m.to),
            ", ".join(m.cc),
            ", ".join(m.bcc),
            m.subject,
            _normalise(m.body, ids),
            _normalise(_html(m), ids),
        )
        for m in messages
    )
    texts, htmls = [], []
    for to, cc, bcc, subject, body, html in entries:
        head = f"To: {to}\n" + (f"Cc: {cc}\n" if cc else "") + (f"Bcc: {bcc}\n" if bcc else "")
        texts.append(f"{head}Subject: {subject}\n\n{body}")
        htmls.append(f"<!-- To: {to} -->\n{html}")
    rule = "\n" + "=" * 78 + "\n"
    return rule.join(texts), rule.join(htmls)


def _compare(path: Path, actual: str) -> None:
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"{path.name} is missing: run with BATON_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8"), f"{path.name} differs"


@pytest.fixture(autouse=True)
def _no_real_date(time_machine):
    """Frozen before any fixture builds data; each scenario then moves the clock to its own times."""
    time_machine.move_to(T0 - timedelta(days=1), tick=False)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", list(SCENARIOS))
def test_the_emails_read_as_pinned(kind, language, request, settings, time_machine):
    settings.SITE_URL = SITE_URL
    mail.outbox.clear()
    scene = Scene(request, time_machine, language)

    delivery = SCENARIOS[kind](scene)
    deliver_due(now=scene.at(delivery))

    assert mail.outbox, f"the {kind} scenario sent nothing"
    text, html = _rendered(mail.outbox, scene.ids)
    _compare(GOLDEN / f"{kind}.{language}.txt", text)
    _compare(GOLDEN / f"{kind}.{language}.html", html)
