"""Words staff read in the Chinese admin: the new-case form creates, a domain error is in Chinese
(never the service's English detail), whatever its code."""

import pytest
from django.utils import translation

from core.errors import StateConflict
from core.messages import error_text
from core.messages import error_text as evaluation_error_text

pytestmark = pytest.mark.django_db


def test_the_new_case_form_submits_with_a_create_button(cases, login):
    html = login("call_center_agent").get("/admin/processes/case/add/").content.decode()

    assert 'value="新建工单"' in html and 'value="打开工单"' not in html


@pytest.mark.parametrize(
    "code", ["handoff_not_pending", "inspection_completed", "review_closed", "no_code_known"]
)
def test_domain_errors_are_in_the_pages_language(code):
    exc = StateConflict("English detail from the service.", code=code)

    with translation.override("zh-hans"):
        texts = [evaluation_error_text(exc)] + ([error_text(exc)] if code != "inspection_completed" else [])
    with translation.override("en"):
        english = evaluation_error_text(exc)

    for text in texts:
        assert "English detail" not in text and text.strip()
    assert english.strip()
