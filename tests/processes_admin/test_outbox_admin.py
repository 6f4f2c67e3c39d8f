"""The quality office sees the outbox, retries dead e-mails; staff choose their own e-mail kinds."""

from django.contrib.auth import get_user_model
from django.core import mail
from django.test import override_settings

from processes.models import Notification, NotificationPreference
from processes.outbox import deliver_due

OUTBOX_URL = "/admin/processes/notification/"


class Broken:
    def __init__(self, *args, **kwargs):
        pass

    def open(self):
        raise ConnectionRefusedError("mail server down")

    def close(self):
        pass


def test_a_dead_notification_is_retried_once_from_the_admin(cases, login, django_capture_on_commit_callbacks):
    cases.open()
    with override_settings(
        EMAIL_BACKEND="tests.processes_admin.test_outbox_admin.Broken", BATON_MAIL_MAX_ATTEMPTS=1
    ):
        deliver_due()
    dead = Notification.objects.filter(status=Notification.Status.DEAD)
    assert dead.exists()
    count = dead.count()

    client = login("quality_officer")
    assert client.get(OUTBOX_URL + "?status=dead").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            OUTBOX_URL, {"action": "retry", "_selected_action": list(dead.values_list("pk", flat=True))}
        )
    assert response.status_code == 302
    assert Notification.objects.filter(status=Notification.Status.SENT).count() == count
    assert len(mail.outbox) == count
    deliver_due()
    assert len(mail.outbox) == count


def test_staff_see_only_their_own_preferences_and_cannot_read_the_outbox(demo, client):
    agent = get_user_model().objects.get(username="card_center_agent")
    NotificationPreference.objects.create(
        user=get_user_model().objects.get(username="risk_agent"), kind="due_soon"
    )
    client.force_login(agent)
    assert client.get(OUTBOX_URL).status_code == 403
    response = client.post(
        "/admin/processes/notificationpreference/add/", {"kind": "handoff_arrived", "email": ""}
    )
    assert response.status_code == 302
    mine = NotificationPreference.objects.get(user=agent)
    assert (mine.kind, mine.email) == ("handoff_arrived", False)
    listing = client.get("/admin/processes/notificationpreference/")
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [mine]
