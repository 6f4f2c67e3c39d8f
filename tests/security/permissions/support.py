"""How the permissions matrix asks: URLs, bodies, clients' answers and what they may show."""

from __future__ import annotations

import json
from contextlib import contextmanager, suppress
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from processes.models import Case, CaseEvent, Handoff
from tests.security.permissions.tables import API_BODIES, FORM_DATA
from tests.security.permissions.world import MATRIX_PDF, PAGES, World


@contextmanager
def isolated():
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


INDEX_URL = "/admin/"
LOGIN_URL = "/admin/login/"


def _model_pages() -> dict[str, tuple[str, str]]:
    """URL name → (model label, page) of every registered model's standard pages."""
    return {
        f"{model._meta.app_label}_{model._meta.model_name}_{page}": (model._meta.label_lower, page)
        for model in admin.site._registry
        for page in PAGES
    }


MODEL_PAGES = _model_pages()


def admin_url(name: str, w: World) -> str:
    if name in MODEL_PAGES:
        label, page = MODEL_PAGES[name]
        args = [] if page in ("changelist", "add") else [w.objects[label]]
        return reverse(f"admin:{name}", args=args)
    if name.startswith("app_list:"):
        return reverse("admin:app_list", kwargs={"app_label": name.split(":", 1)[1]})
    from django.contrib.contenttypes.models import ContentType

    special = {
        "catch_all": lambda: "/admin/no-such-page/",
        "view_on_site": lambda: reverse(
            "admin:view_on_site", args=[ContentType.objects.get_for_model(Case).pk, w.cases["A"].pk]
        ),
        "autocomplete:case": lambda: (
            reverse("admin:autocomplete") + "?app_label=processes&model_name=handoff&field_name=case&term="
        ),
        "autocomplete:department": lambda: (
            reverse("admin:autocomplete")
            + "?app_label=departments&model_name=membership&field_name=department&term="
        ),
        "autocomplete:user": lambda: (
            reverse("admin:autocomplete")
            + "?app_label=departments&model_name=membership&field_name=user&term=card"
        ),
        "auth_user_password_change": lambda: reverse(
            "admin:auth_user_password_change", args=[w.users["agent"].pk]
        ),
        "evaluations_evaluation_scorecard": lambda: (
            reverse("admin:evaluations_evaluation_scorecard") + "?department=CARD_CENTER"
        ),
        "evaluations_evaluation_export": lambda: reverse("admin:evaluations_evaluation_export", args=["csv"]),
        "processes_case_attach": lambda: reverse("admin:processes_case_attach", args=[w.cases["A"].pk]),
        "processes_case_link": lambda: reverse("admin:processes_case_link", args=[w.cases["A"].pk]),
        "processes_case_attachment": lambda: reverse(
            "admin:processes_case_attachment", args=[w.cases["A"].pk, w.objects["processes.attachment"]]
        ),
    }
    return special[name]() if name in special else reverse(f"admin:{name}")


def admin_url_names() -> set[str]:
    """Every named URL of admin.site (app_list once per registered app)."""
    names: set[str] = set()

    def walk(patterns) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif pattern.name:
                names.add(pattern.name)

    walk(admin.site.get_urls())
    names.discard("app_list")
    return names | {f"app_list:{model._meta.app_label}" for model in admin.site._registry}


def body_text(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    text = content.decode("utf-8", errors="replace")
    if response.get("Content-Type", "").startswith("application/json"):
        with suppress(ValueError):  # \u escapes would hide Chinese names from the leak search
            text = json.dumps(json.loads(text), ensure_ascii=False)
    return text


def leaks(response, w: World, role: str) -> list[str]:
    """What a 2xx answer shows that `role` must never read."""
    if not 200 <= response.status_code < 300:
        return []
    text = body_text(response)
    return [secret for secret in w.forbidden(role) if secret in text]


def described(response) -> str:
    text = str(response.status_code)
    if response.status_code in (301, 302):
        text += f" → {response['Location']}"
    exc = getattr(response, "exc_info", None)
    if exc:
        text += f" ({exc[0].__name__}: {exc[1]})"
    return text


def last_message_level(response) -> int | None:
    stored = list(get_messages(response.wsgi_request))
    return stored[-1].level if stored else None


def matches(expected: str, response, *, case_url: str = "") -> bool:
    code, location = response.status_code, response.get("Location", "")
    if expected == "login":
        return code == 302 and location.startswith(f"{LOGIN_URL}?next=")
    if expected in ("home", "gone"):
        return code == 302 and location == INDEX_URL
    if expected == "case":
        return code == 302 and location.startswith(case_url)
    if expected == "mine":
        return code == 302 and location.endswith("?mine=1")
    if expected in ("ok", "refused"):
        level = message_levels.SUCCESS if expected == "ok" else message_levels.ERROR
        return code == 302 and location == case_url and last_message_level(response) == level
    return code == int(expected)


def case_counts(case: Case) -> tuple:
    """What a refused change must leave as it was: the timeline, the handoffs, the case row."""
    row = Case.objects.filter(pk=case.pk).values_list("status", "updated_at", "current_stage_id").get()
    return CaseEvent.objects.count(), Handoff.objects.count(), Case.objects.count(), row


SNAPSHOT_APPS = ("departments", "processes", "evaluations", "authtoken", "django_celery_beat", "auth")


def snapshot() -> dict[str, list]:
    """Every row of the domain, the tokens, the schedules and the accounts."""
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values_list())
        for model in apps.get_models()
        if model._meta.app_label in SNAPSHOT_APPS and not model._meta.proxy
    }


def changed_tables(before: dict[str, list], after: dict[str, list]) -> list[str]:
    return sorted(label for label in before if before[label] != after[label])


# -- the API --------------------------------------------------------------------------------------------
def api_url(method: str, path: str, w: World) -> str:
    from evaluations.periods import PeriodKind, period_containing, today

    code = "CARD_CENTER" if path.startswith("/api/v1/departments/") else "COMPLAINT"
    url = path.format(
        code=code,
        reference=w.cases["A"].reference,
        handoff_id=w.handoff.pk,
        evaluation_id=w.ids["E"],
        inspection_id=w.ids["I"],
        review_id=w.ids["R"],
        action_id=w.ids["X"],
        attachment_id=w.objects["processes.attachment"],
    )
    if path == "/api/v1/analytics/handoff-flow/":
        last_month = period_containing(PeriodKind.MONTHLY, today()).previous()
        url += f"?start={last_month.start}&end={last_month.end}"
    return url


def api_body(method: str, path: str, w: World) -> dict[str, Any]:
    from evaluations.periods import today

    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/api/v1/cases/"): {
            "process": "COMPLAINT",
            "title": "权限矩阵: 新投诉",
            "channel": "phone",
            "source": "matrix",
            "external_id": "M-1",
        },
        ("POST", "/api/v1/cases/{reference}/forward/"): {"to_stage": "RISK_REVIEW", "note": "请风险复核"},
        ("POST", "/api/v1/cases/{reference}/resolve/"): {
            "resolution": "已向客户致歉并解释",
            "recovery_measure": "apology",
        },
        ("POST", "/api/v1/cases/{reference}/reopen/"): {"reason": "客户再次来电"},
        ("POST", "/api/v1/cases/{reference}/cancel/"): {"reason": "客户撤回投诉"},
        ("POST", "/api/v1/cases/{reference}/comments/"): {"text": "已电话联系客户"},
        ("POST", "/api/v1/cases/{reference}/customer-notified/"): {"channel": "phone"},
        ("POST", "/api/v1/cases/{reference}/extend-deadline/"): {"reason": "需调取交易凭证"},
        ("POST", "/api/v1/cases/{reference}/compensation-decision/"): {"approve": True},
        ("POST", "/api/v1/cases/{reference}/feedback/"): {"survey_id": "MATRIX-2", "csat": 5},
        ("POST", "/api/v1/handoffs/{handoff_id}/return/"): {"reason": "非本部门职责"},
        ("POST", "/api/v1/handoffs/{handoff_id}/pause/"): {"cause": "customer", "note": "等待客户提供账单"},
        ("POST", "/api/v1/inspections/"): {
            "case": w.cases["C"].reference,
            "department": "CARD_CENTER",
            "level": "self",
            "scorecard": "SERVICE_QA",
            "scores": w.ids["criteria"],
        },
        ("POST", "/api/v1/inspections/{inspection_id}/complete/"): {
            "scores": w.ids["criteria"],
            "comment": "处理规范",
        },
        ("POST", "/api/v1/actions/"): {
            "review": w.ids["R"],
            "department": "CARD_CENTER",
            "owner": "card_center_agent",
            "title": "退费流程优化",
            "kind": "process_change",
            "due_date": (today() + timedelta(days=30)).isoformat(),
        },
        ("PATCH", "/api/v1/actions/{action_id}/"): {"status": "in_progress"},
        ("POST", "/api/v1/cases/{reference}/links/"): {"kind": "child_of", "target": w.cases["C"].reference},
    }
    if (method, path) in API_BODIES:
        return API_BODIES[(method, path)](w)
    return bodies.get((method, path), {})


def api_call(client: Client, method: str, path: str, w: World):
    url = api_url(method, path, w)
    if method == "GET":
        return client.get(url)
    if (method, path) == ("POST", "/api/v1/cases/{reference}/attachments/"):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return client.post(url, {"file": SimpleUploadedFile("statement.pdf", MATRIX_PDF)})
    body = json.dumps(api_body(method, path, w))
    return client.generic(method, url, body, content_type="application/json")


def _route_template(route: str) -> str:
    """`cases/<case_ref:reference>/` → `cases/{reference}/`, as the OpenAPI schema writes it."""
    import re

    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def api_endpoints_from_urls() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for top in get_resolver().url_patterns:
        if not (isinstance(top, URLResolver) and str(top.pattern) == "api/v1/"):
            continue
        for pattern in top.url_patterns:
            assert isinstance(pattern, URLPattern), f"nested include under /api/v1/: {pattern}"
            view = pattern.callback.view_class
            path = "/api/v1/" + _route_template(str(pattern.pattern))
            for method in ("get", "post", "put", "patch", "delete"):
                if hasattr(view, method):
                    found.add((method.upper(), path))
    return found


# ACTION_FORMS field names are prefixed with the action's name.
def action_data(action: str, w: World) -> dict[str, Any]:
    fields = {
        "accept": {},
        "claim": {},
        "resume": {},
        "pause": {"cause": "customer", "note": "等待客户回电"},
        "forward": {"to_stage": "RISK_REVIEW", "note": "请风险复核"},
        "resolve": {"resolution": "已致歉", "recovery_measure": "apology", "compensation_amount": ""},
        "decide_compensation": {"decision": "approve", "note": ""},
        "return": {"reason": "非本部门职责"},
        "close": {},
        "reopen": {"reason": "客户再次来电"},
        "extend_deadline": {"reason": "需调取交易凭证"},
        "cancel": {"reason": "客户撤回投诉"},
        "comment": {"text": "已电话联系客户"},
    }.get(action)
    if fields is None:  # the action of a newer change: its module gives its input
        fields = FORM_DATA[action](w)
    if action in ("accept", "claim", "resume", "pause", "forward", "return"):
        fields = {**fields, "handoff": w.handoff.pk}
    return {f"{action}-{name}": value for name, value in fields.items()}


def case_page(w: World) -> str:
    return reverse("admin:processes_case_change", args=[w.cases["A"].pk])
