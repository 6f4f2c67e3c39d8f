"""Nothing in our pages needs what the production content security policy refuses (config/settings/
production.py: `script-src 'self'`): no inline <script>, no event-handler attribute (onchange=…), no
javascript: URL. Style attributes are refused too, though the policy still allows them for the API's
Swagger page: a page of ours colours with classes from its stylesheet.

This reads the templates and the Python that builds HTML, so it fails in CI before a browser would
(tests/browser/test_production_pages.py checks the rendered pages under the real policy). E-mails are
not served under the policy: their templates (*/templates/email/, */email/) may use <style>.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("config", "core", "departments", "processes", "evaluations", "templates")
FORBIDDEN = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "event-handler attribute": re.compile(r"""<[^>]*\son[a-z]+\s*=\s*["'{]""", re.IGNORECASE),
    "javascript: URL": re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.IGNORECASE),
    "style attribute": re.compile(r"""<[^>]*\sstyle\s*=""", re.IGNORECASE),
}


def _is_email(path: Path) -> bool:
    return "email" in path.relative_to(ROOT).parts


def _templates() -> list[Path]:
    found = []
    for app in APPS:
        found += [p for p in (ROOT / app).rglob("templates/**/*.html") if not _is_email(p)]
    return sorted(found)


def _python_sources() -> list[Path]:
    return sorted(p for app in APPS for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts)


def _violations(text: str) -> list[str]:
    return [
        f"{name}: {match.group(0)[:80]!r}" for name, rx in FORBIDDEN.items() for match in rx.finditer(text)
    ]


def test_there_are_templates_to_check():
    assert len(_templates()) >= 10


@pytest.mark.parametrize("path", _templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_needs_what_the_csp_refuses(path):
    assert not _violations(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", _python_sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_python_builds_html_the_csp_refuses(path):
    # format_html / mark_safe strings: the same rules as the templates.
    assert not _violations(path.read_text(encoding="utf-8"))


def test_the_check_finds_what_it_looks_for():
    assert _violations('<select onchange="this.form.submit()">')
    assert _violations("<script>alert(1)</script>")
    assert _violations('<td style="background: red">')
    assert _violations('<a href="javascript:void(0)">')
    assert not _violations('<script src="/static/x.js"></script><td class="heat-1">')
