"""Process definitions: the quality office administers them (model permissions), staff only read."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from processes.models import ServiceProcess, Stage, StageTarget

pytestmark = pytest.mark.django_db


def form_data(response) -> dict:
    """What the browser would post back unchanged: the main form and every inline formset."""
    data = {}
    for field in response.context["adminform"].form:
        value = field.value()
        if value is not None and value is not False:
            data[field.html_name] = value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for field in formset.management_form:
            data[field.html_name] = field.value()
        for form in formset.forms:
            for field in form:
                value = field.value()
                if value is not None and value is not False:
                    data[field.html_name] = value
    return data


def test_the_quality_office_edits_a_stages_targets(demo, login):
    stage = Stage.objects.get(process__code="COMPLAINT", code="INVESTIGATE_CARD")
    client = login("quality_officer")
    url = f"/admin/processes/stage/{stage.pk}/change/"
    page = client.get(url)
    data = form_data(page)
    index = next(
        i
        for i, form in enumerate(page.context["inline_admin_formsets"][0].formset.forms)
        if form.instance.priority == "urgent"
    )
    data[f"targets-{index}-response_minutes"] = 45

    response = client.post(url, data)

    assert response.status_code == 302, response.context["errors"] if response.context else response
    assert StageTarget.objects.get(stage=stage, priority="urgent").response_minutes == 45


def test_the_process_page_offers_only_the_processs_own_stages_for_transitions(demo, login):
    process = ServiceProcess.objects.get(code="APP_INCIDENT")

    page = login("quality_officer").get(f"/admin/processes/serviceprocess/{process.pk}/change/")

    transitions = next(
        i for i in page.context["inline_admin_formsets"] if i.opts.model.__name__ == "Transition"
    )
    choices = {label for value, label in transitions.formset.forms[0].fields["from_stage"].choices if value}
    assert choices == {str(s) for s in Stage.objects.filter(process=process).select_related("process")}


def test_the_process_page_costs_the_same_queries_for_a_small_and_a_large_process(demo, login):
    client = login("quality_officer")
    small = ServiceProcess.objects.get(code="APP_INCIDENT")  # 3 stages, 2 transitions
    large = ServiceProcess.objects.get(code="COMPLAINT")  # 7 stages, 20 transitions
    client.get(f"/admin/processes/serviceprocess/{small.pk}/change/")
    with CaptureQueriesContext(connection) as few:
        client.get(f"/admin/processes/serviceprocess/{small.pk}/change/")
    with CaptureQueriesContext(connection) as many:
        client.get(f"/admin/processes/serviceprocess/{large.pk}/change/")
    assert len(many) == len(few)


def test_staff_read_process_definitions_but_do_not_change_them(demo, login):
    process = ServiceProcess.objects.get(code="COMPLAINT")
    client = login("card_center_agent")
    url = f"/admin/processes/serviceprocess/{process.pk}/change/"

    page = client.get(url)

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.post(url, {"name": "x"}).status_code == 403
    assert client.get("/admin/processes/serviceprocess/add/").status_code == 403
    stage = Stage.objects.get(process=process, code="INTAKE")
    stage_page = client.get(f"/admin/processes/stage/{stage.pk}/change/").content.decode()
    assert "targets-TOTAL_FORMS" in stage_page or "stage target" in stage_page.lower()


@pytest.mark.parametrize("prefix", ["cmp", "CM-P", "1CMP", ""])
def test_a_reference_prefix_that_would_make_references_ambiguous_is_refused(demo, login, prefix):
    process = ServiceProcess.objects.get(code="COMPLAINT")
    client = login("quality_officer")
    url = f"/admin/processes/serviceprocess/{process.pk}/change/"
    data = form_data(client.get(url))
    data["reference_prefix"] = prefix

    response = client.post(url, data)

    assert response.status_code == 200
    assert "reference_prefix" in response.context["adminform"].form.errors
    process.refresh_from_db()
    assert process.reference_prefix == "CMP"


def test_a_well_formed_reference_prefix_is_saved(demo, login):
    process = ServiceProcess.objects.get(code="COMPLAINT")
    client = login("quality_officer")
    url = f"/admin/processes/serviceprocess/{process.pk}/change/"
    data = form_data(client.get(url))
    data["reference_prefix"] = "CMP2"

    response = client.post(url, data)

    assert response.status_code == 302, response.context["errors"] if response.context else response
    process.refresh_from_db()
    assert process.reference_prefix == "CMP2"
