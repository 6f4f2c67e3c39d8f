import pytest
from django.utils import timezone

from departments.models import Heartbeat
from departments.tasks import heartbeat

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_anything(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_database_broker_and_a_missing_heartbeat(client):
    body = client.get("/readyz").json()
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["heartbeat"] == {"ok": False, "last": None, "age_seconds": None}


def test_heartbeat_task_shows_up_in_readyz(client):
    heartbeat.delay()
    heartbeat.delay()
    beat = Heartbeat.objects.get(name=Heartbeat.WORKER)
    assert beat.count == 2
    assert (timezone.now() - beat.beat_at).total_seconds() < 5
    assert client.get("/readyz").json()["checks"]["heartbeat"]["ok"] is True
