"""Who acts for which department and who sees what; the demo organisation's users as departments/demo.py names them."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Permission

from departments import policy
from departments.demo import seed_organisation
from departments.models import BusinessCalendar, CalendarException, Department, Membership
from tests.factories import DepartmentFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()

DEPARTMENT_CODES = [
    "BRANCH",
    "CALL_CENTER",
    "CARD_CENTER",
    "RETAIL_LENDING",
    "RISK",
    "COMPLIANCE",
    "IT",
    "SERVICE_QUALITY",
]
DEMO_USERNAMES = sorted(
    [f"{code.lower()}_{suffix}" for code in DEPARTMENT_CODES for suffix in ("agent", "lead")]
    + ["quality_officer", "auditor", "admin"]
)


def fresh(username: str):
    """The user as a new request would load it (no cached permissions or memberships)."""
    return User.objects.get(username=username)


def ids(*codes: str) -> set[int]:
    return set(Department.objects.filter(code__in=codes).values_list("pk", flat=True))


# -- department scope --------------------------------------------------------------------------------
def test_a_member_acts_for_and_sees_their_department_only(demo_org):
    agent = fresh("card_center_agent")
    card, risk = demo_org["CARD_CENTER"], demo_org["RISK"]

    assert policy.acts_for(agent, card.pk)
    assert not policy.acts_for(agent, risk.pk)
    assert not policy.acts_for(agent, None)
    assert policy.acting_department_ids(agent) == {card.pk}
    assert list(policy.visible_departments(agent)) == [card]
    assert not policy.sees_all(agent)


def test_a_user_in_two_departments_acts_for_both(db):
    user = UserFactory()
    first, second, other = DepartmentFactory(), DepartmentFactory(), DepartmentFactory()
    MembershipFactory(user=user, department=first)
    MembershipFactory(user=user, department=second, role=Membership.Role.INSPECTOR)

    assert policy.acting_department_ids(user) == {first.pk, second.pk}
    assert set(policy.visible_departments(user)) == {first, second}
    assert not policy.acts_for(user, other.pk)


def test_only_the_lead_leads(demo_org):
    card = demo_org["CARD_CENTER"]

    assert policy.leads(fresh("card_center_lead"), card.pk)
    assert not policy.leads(fresh("card_center_agent"), card.pk)
    assert not policy.leads(fresh("risk_lead"), card.pk)


def test_a_member_of_a_deactivated_department_no_longer_acts_for_it(demo_org):
    Department.objects.filter(code="RISK").update(is_active=False)
    agent = fresh("risk_agent")

    assert not policy.acts_for(agent, demo_org["RISK"].pk)
    assert list(policy.visible_departments(agent)) == []


@pytest.mark.parametrize("username", ["quality_officer", "auditor"])
def test_quality_office_and_auditors_see_every_department(demo_org, username):
    user = fresh(username)

    assert user.has_perm(policy.SEE_ALL)
    assert policy.sees_all(user)
    assert set(policy.visible_departments(user)) == set(Department.objects.all())


def test_seeing_all_comes_from_the_permission_not_from_a_department(db):
    user = UserFactory()
    DepartmentFactory.create_batch(3)
    assert not policy.sees_all(user)

    user.user_permissions.add(Permission.objects.get(codename="view_all_departments"))

    assert policy.sees_all(fresh(user.username))
    assert policy.visible_departments(fresh(user.username)).count() == 3


def test_the_quality_officer_acts_for_all_the_auditor_for_none(demo_org):
    risk = demo_org["RISK"].pk
    officer, auditor = fresh("quality_officer"), fresh("auditor")

    assert policy.acts_for(officer, risk)
    assert policy.leads(officer, risk)
    assert not policy.acts_for(auditor, risk)
    assert not policy.leads(auditor, risk)
    assert policy.acting_department_ids(auditor) == set()


@pytest.mark.parametrize("username", ["card_center_agent", "card_center_lead", "quality_officer", "auditor"])
def test_an_inactive_user_sees_and_does_nothing(demo_org, username):
    User.objects.filter(username=username).update(is_active=False)
    user = fresh(username)
    card = demo_org["CARD_CENTER"].pk

    assert not policy.sees_all(user)
    assert not policy.acts_for_all(user)
    assert not policy.acts_for(user, card)
    assert not policy.leads(user, card)
    assert policy.acting_department_ids(user) == set()
    assert list(policy.visible_departments(user)) == []


def test_an_anonymous_visitor_sees_and_does_nothing(demo_org):
    anonymous = AnonymousUser()

    assert not policy.sees_all(anonymous)
    assert not policy.acts_for(anonymous, demo_org["CARD_CENTER"].pk)
    assert not policy.leads(anonymous, demo_org["CARD_CENTER"].pk)
    assert list(policy.visible_departments(anonymous)) == []


# -- the demo organisation ----------------------------------------------------------------------------
def counts() -> dict[str, int]:
    return {
        "departments": Department.objects.count(),
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "calendars": BusinessCalendar.objects.count(),
        "calendar exceptions": CalendarException.objects.count(),
        "groups of users": User.groups.through.objects.count(),
    }


def test_seeding_twice_changes_nothing(demo_org):
    first = counts()

    departments = seed_organisation()

    assert counts() == first
    assert first["departments"] == 8
    assert first["users"] == len(DEMO_USERNAMES)
    assert first["memberships"] == 8 * 2 + 1
    assert {code: d.pk for code, d in departments.items()} == {code: d.pk for code, d in demo_org.items()}


def test_the_demo_has_the_documented_departments_and_users(demo_org):
    assert sorted(demo_org) == sorted(DEPARTMENT_CODES)
    assert sorted(User.objects.values_list("username", flat=True)) == DEMO_USERNAMES
    assert Membership.objects.filter(
        user__username="call_center_agent", role="member"
    ).get().department.code == ("CALL_CENTER")
    assert Membership.objects.filter(
        user__username="card_center_lead", role="lead"
    ).get().department.code == ("CARD_CENTER")
    assert fresh("admin").is_superuser
    assert not fresh("auditor").has_perm("departments.change_department")
    assert fresh("quality_officer").has_perm("departments.change_businesscalendar")


def test_every_demo_user_logs_into_the_admin_with_password_demo(demo_org, client):
    for username in DEMO_USERNAMES:
        response = client.post(
            "/admin/login/?next=/admin/", {"username": username, "password": "demo", "next": "/admin/"}
        )
        assert response.status_code == 302, username
        assert response["Location"] == "/admin/", username
        assert client.get("/admin/").status_code == 200, username
        client.logout()


def test_a_wrong_password_is_refused(demo_org, client):
    response = client.post("/admin/login/?next=/admin/", {"username": "auditor", "password": "wrong"})

    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302
