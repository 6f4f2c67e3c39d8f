"""A person records that they told the customer: the event names the channel; outside the caller's
scope the case is not found; an unknown channel is a 400."""

from __future__ import annotations

from processes.models import CaseEvent


def test_a_call_to_the_customer_is_recorded_with_its_channel(api, story):
    case = story.open()

    response = api("call_center_agent").post(
        f"/api/v1/cases/{case.reference}/customer-notified/",
        {"channel": "phone", "about": "extension", "note": "已电话告知延期"},
        format="json",
    )

    assert response.status_code == 201, response.content
    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.CUSTOMER_NOTIFIED)
    assert event.payload == {
        "channel": "phone",
        "about": "extension",
        "by_person": True,
        "note": "已电话告知延期",
    }
    assert event.actor.username == "call_center_agent"


def test_an_unknown_channel_is_a_400_and_another_departments_case_a_404(api, story):
    case = story.open()
    url = f"/api/v1/cases/{case.reference}/customer-notified/"

    bad = api("call_center_agent").post(url, {"channel": "pigeon"}, format="json")
    assert bad.status_code == 400 and "channel" in bad.json()["fields"]
    assert api("card_center_agent").post(url, {"channel": "phone"}, format="json").status_code == 404
