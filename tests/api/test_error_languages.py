"""`detail` follows Accept-Language (zh-hans, en) for every error code; unknown /api/ paths and
methods answer JSON in every settings mode."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from core.messages import MESSAGES as DETAILS
from core.messages import translated

from .conftest import assert_error

pytestmark = pytest.mark.django_db

APPS = ("core", "departments", "processes", "evaluations")
# `code="…"` that names no error (a KPI looked up by its code).
NOT_ERRORS = {"csat_avg"}
RAISED = re.compile(r'code="([a-z_]+)"|_invalid\([^)]*?"([a-z_]+)"\)', re.S)


def raised_codes() -> set[str]:
    codes = set()
    for app in APPS:
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for a, b in RAISED.findall(path.read_text()):
                codes.add(a or b)
    return codes - NOT_ERRORS


def test_every_error_code_raised_in_the_apps_has_a_sentence():
    missing = sorted(raised_codes() - set(DETAILS))
    assert not missing, (
        f"error codes without a sentence in core.messages (or a declare next to their rule): {missing}"
    )


@pytest.mark.parametrize("code", sorted(DETAILS))
def test_every_code_reads_in_chinese_and_in_english(code):
    with translation.override("en"):
        english = str(DETAILS[code])
        assert translated(code, english) == english
    with translation.override("zh-hans"):
        chinese = translated(code, f"Specific English text for {code}.")
    assert chinese != english and re.search("[\u4e00-\u9fff]", chinese), (code, chinese)


def test_a_domain_error_follows_accept_language(api, story):
    case = story.open()
    client = api("call_center_agent")
    url = f"/api/v1/cases/{case.reference}/close/"

    zh = assert_error(
        client.post(url, {}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans"), 409, "case_not_resolved"
    )
    en = assert_error(
        client.post(url, {}, format="json", HTTP_ACCEPT_LANGUAGE="en"), 409, "case_not_resolved"
    )

    assert zh["detail"] == "该案件尚未办结。"
    assert en["detail"] == "Only a resolved case can be closed."


def test_drf_errors_and_unknown_paths_follow_accept_language(client, settings):
    settings.DEBUG = True
    zh = client.get("/api/v1/cases/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    en = client.get("/api/v1/cases/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert zh["code"] == en["code"] == "not_authenticated"
    assert re.search("[\u4e00-\u9fff]", zh["detail"]) and not re.search("[\u4e00-\u9fff]", en["detail"])
    missing = client.get("/api/v2/nothing", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert missing.status_code == 404 and missing.json() == {"code": "not_found", "detail": "未找到。"}


def test_an_unknown_method_is_a_json_405(api, settings):
    settings.DEBUG = True
    answer = api("call_center_agent").delete("/api/v1/cases/", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 405
    assert answer.json()["code"] == "method_not_allowed"
