"""`manage.py create_api_token`, the OpenAPI schema (no warnings) and the Swagger UI from local files."""

from __future__ import annotations

from io import StringIO

import pytest
import yaml
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from departments.models import ApiKey

pytestmark = pytest.mark.django_db


def create_token(*args: str) -> str:
    out = StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def test_create_api_token_prints_a_key_that_acts_as_its_user(org):
    key = create_token("card_center_agent")

    assert create_token("card_center_agent", "--name", "second") != key  # several keys per user
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    departments = client.get("/api/v1/departments/").json()["results"]
    assert [d["code"] for d in departments] == ["CARD_CENTER"]


def test_rotate_and_revoke(org):
    key = create_token("card_center_agent")

    rotated = create_token("card_center_agent", "--rotate")
    assert rotated != key
    old, new = APIClient(), APIClient()
    old.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    new.credentials(HTTP_AUTHORIZATION=f"Token {rotated}")
    assert old.get("/api/v1/cases/").status_code == 401
    assert new.get("/api/v1/cases/").status_code == 200
    assert create_token("card_center_agent", "--revoke") == ""
    assert new.get("/api/v1/cases/").status_code == 401
    assert not ApiKey.objects.filter(user__username="card_center_agent", revoked_at=None).exists()


def test_create_api_token_for_an_unknown_user_fails(org):
    with pytest.raises(CommandError, match="No user"):
        create_token("nobody")


def test_schema_generates_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"

    call_command("spectacular", "--fail-on-warn", "--file", str(target), "--validate")

    schema = yaml.safe_load(target.read_text())
    operations = {(path, method): op for path, item in schema["paths"].items() for method, op in item.items()}
    assert ("/api/v1/cases/{reference}/forward/", "post") in operations
    assert ("/api/v1/handoffs/{handoff_id}/accept/", "post") in operations
    for (path, method), op in operations.items():
        assert "401" in op["responses"] and "429" in op["responses"], (path, method)
        if method == "post":
            assert {"400", "401", "429"} <= set(op["responses"]), (path, method)
            if "{" in path:
                assert {"403", "404", "409"} <= set(op["responses"]), (path, method)
        for status, response in op["responses"].items():
            # 414 is the web server's own answer to an over-long request line, before Django
            expected = "text/html" if status == "414" else "application/json"
            if (path, method, status) == (
                "/api/v1/cases/{reference}/attachments/{attachment_id}/",
                "get",
                "200",
            ):
                expected = "application/pdf"  # a case's file, served with its own type (one of several)
            assert expected in response["content"], (path, method, status)


def test_schema_and_docs_are_served(client, db):
    schema = client.get("/api/schema/?format=json")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200 and schema.json()["info"]["title"] == "Baton API"
    assert docs.status_code == 200
    html = docs.content.decode()
    # Swagger UI comes from drf-spectacular-sidecar's static files, never from a CDN.
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html
