"""factory_boy factories shared by the test modules."""

from __future__ import annotations

from datetime import date, time, timedelta

import factory
from django.contrib.auth import get_user_model

from departments.models import BusinessCalendar, CalendarException, Department, Membership, WorkingHours


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@bank.example")
    is_staff = True
    password = factory.django.Password("demo")


class CalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessCalendar
        django_get_or_create = ("code",)
        # The hours hook writes its own rows; the calendar itself needs no second save.
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"cal-{n}")
    name = factory.LazyAttribute(lambda c: c.code)
    time_zone = "Asia/Shanghai"

    @factory.post_generation
    def head_office_hours(self, create, extracted, **kwargs):
        """Monday–Friday 09:00–12:00 and 13:30–17:30 unless `head_office_hours=False` or always open."""
        if not create or extracted is False or self.always_open:
            return
        WorkingHours.objects.bulk_create(
            [WorkingHours(calendar=self, weekday=d, start=time(9), end=time(12)) for d in range(5)]
            + [WorkingHours(calendar=self, weekday=d, start=time(13, 30), end=time(17, 30)) for d in range(5)]
        )


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"DEPT_{n}")
    name = factory.LazyAttribute(lambda d: d.code.title())
    calendar = factory.SubFactory(CalendarFactory)
    team_email = factory.LazyAttribute(lambda d: f"{d.code.lower()}@bank.example")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    department = factory.SubFactory(DepartmentFactory)
    role = Membership.Role.MEMBER


class CalendarExceptionFactory(factory.django.DjangoModelFactory):
    """A dated exception entered by hand in the admin (no import source)."""

    class Meta:
        model = CalendarException

    calendar = factory.SubFactory(CalendarFactory)
    date = factory.Sequence(lambda n: date(2026, 1, 1) + timedelta(days=n))
    kind = CalendarException.Kind.HOLIDAY
    name = factory.LazyAttribute(lambda e: f"{e.kind} {e.date}")
    source = ""


# -- processes: the definitions (cases and handoffs are built through the services, tests/support.py) --
class ServiceProcessFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "processes.ServiceProcess"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"process-{n}")
    name = factory.LazyAttribute(lambda p: p.code.title())
    category = "complaint"
    reference_prefix = factory.Sequence(lambda n: f"P{n % 100000}")


class StageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "processes.Stage"

    process = factory.SubFactory(ServiceProcessFactory)
    code = factory.Sequence(lambda n: f"stage-{n}")
    name = factory.LazyAttribute(lambda s: s.code.title())
    department = factory.SubFactory(DepartmentFactory)


class StageTargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "processes.StageTarget"

    stage = factory.SubFactory(StageFactory)
    priority = "normal"
    response_minutes = 30
    resolution_minutes = 480


class TransitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "processes.Transition"

    from_stage = factory.SubFactory(StageFactory)
    to_stage = factory.SubFactory(StageFactory, process=factory.SelfAttribute("..from_stage.process"))
    process = factory.SelfAttribute("from_stage.process")


# -- evaluations: scorecards and review cycles (KPIs are the built-in rows, tests/support.py) ---------
class ScorecardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "evaluations.Scorecard"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"card-{n}")
    name = factory.LazyAttribute(lambda s: s.code.title())


class ScorecardCriterionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "evaluations.ScorecardCriterion"

    scorecard = factory.SubFactory(ScorecardFactory)
    code = factory.Sequence(lambda n: f"criterion-{n}")
    name = factory.LazyAttribute(lambda c: c.code.title())


class ReviewCycleFactory(factory.django.DjangoModelFactory):
    """A row as the admin would save it; a cycle that is to run is created by review_cycle_create."""

    class Meta:
        model = "evaluations.ReviewCycle"

    name = factory.Sequence(lambda n: f"Review cycle {n}")
    kind = "monthly"
    run_day = 1
