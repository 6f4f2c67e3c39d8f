"""TOTP for the quality office, administrators and whoever may see unmasked data: without a session
verified by a confirmed device they reach neither the admin nor unmasked customer data (admin or API);
with one, they do. Staff who see only masked data need no second factor."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client, override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from departments.api_keys import api_key_issue
from departments.second_factor import needs_second_factor
from processes import services

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("totp_required")]


@pytest.fixture
def totp_required(settings):
    settings.BATON_REQUIRE_TOTP = True


def _user(username):
    return get_user_model().objects.get(username=username)


@pytest.fixture
def case(demo_org):
    from processes.demo import seed_processes

    processes = seed_processes()
    opened, _ = services.case_open(
        process=processes["COMPLAINT"],
        title="信用卡年费争议",
        channel="phone",
        actor=_user("call_center_agent"),
        customer_name="张小三",
        customer_phone="13812345678",
    )
    return opened


def _token(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def _login_with_totp(client: Client, username: str, device: TOTPDevice | None):
    data = {"username": username, "password": "demo", "this_is_the_login_form": "1", "next": "/admin/"}
    if device is not None:
        data |= {"otp_device": device.persistent_id, "otp_token": _token(device)}
    return client.post("/admin/login/", data)


def test_who_needs_a_second_factor(case):
    assert needs_second_factor(_user("quality_officer"))
    assert needs_second_factor(_user("admin"))
    assert not needs_second_factor(_user("card_center_agent"))
    assert not needs_second_factor(_user("auditor"))


def test_a_quality_officer_without_a_confirmed_device_reaches_no_unmasked_data(case):
    officer = _user("quality_officer")
    TOTPDevice.objects.create(user=officer, name="pending", confirmed=False)
    client = Client()
    client.force_login(officer)

    page = client.get(f"/admin/processes/case/{case.pk}/change/")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_key_issue(username=officer.username).key}")
    body = api.get(f"/api/v1/cases/{case.reference}/").json()

    assert page.status_code == 302 and page["Location"].startswith("/admin/login/")
    assert "张小三" not in page.content.decode()
    assert body["customer"]["masked"] is True
    assert "13812345678" not in str(body) and "张小三" not in str(body)


def test_with_a_confirmed_device_and_its_token_the_officer_sees_the_customer(case):
    officer = _user("quality_officer")
    device = TOTPDevice.objects.create(user=officer, name="phone", confirmed=True)
    client = Client()

    assert _login_with_totp(client, "quality_officer", None).status_code == 200  # the form asks again
    assert _login_with_totp(client, "quality_officer", device).status_code == 302
    page = client.get(f"/admin/processes/case/{case.pk}/change/")

    assert page.status_code == 200
    assert "张小三" in page.content.decode()


def test_staff_who_see_masked_data_sign_in_without_a_second_factor(case):
    client = Client()
    client.force_login(_user("card_center_agent"))

    assert client.get("/admin/").status_code == 200


@override_settings(BATON_REQUIRE_TOTP=True, OTP_TOTP_THROTTLE_FACTOR=0)  # a wrong token would delay the next
def test_enrolment_confirms_a_device_only_with_its_token(case, capsys):
    call_command("totp_enroll", "quality_officer")
    assert capsys.readouterr().out.startswith("otpauth://totp/")
    device = TOTPDevice.objects.get(user__username="quality_officer")
    assert not device.confirmed

    with pytest.raises(Exception, match="does not match"):
        call_command(
            "totp_enroll",
            "quality_officer",
            "--confirm",
            "000000" if _token(device) != "000000" else "111111",
        )
    call_command("totp_enroll", "quality_officer", "--confirm", _token(device))

    device.refresh_from_db()
    assert device.confirmed
