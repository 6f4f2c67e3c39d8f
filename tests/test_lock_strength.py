"""One lock rule for the whole code: every `select_for_update` says whether the key may change.

`no_key=True` (FOR NO KEY UPDATE) wherever the locked row's key stays as it is, which is every lock
today: it does not block the inserts of rows that point at the locked one. A lock that must stop
those too says `no_key=False` on purpose. The raw SQL of processes/locking.py is held to the same
rule: FOR UPDATE only where the database has no FOR NO KEY UPDATE.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("core", "departments", "processes", "evaluations", "config")


def _calls_without_no_key(source: str, filename: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "select_for_update"
            and not any(keyword.arg == "no_key" for keyword in node.keywords)
        ):
            found.append(f"{filename}:{node.lineno}")
    return found


def _sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def test_every_select_for_update_says_no_key():
    missing = []
    for path in _sources():
        missing += _calls_without_no_key(path.read_text(), str(path.relative_to(ROOT)))
    assert missing == []


def test_the_check_finds_a_lock_without_no_key():
    source = "Case.objects.select_for_update(of=('self',)).get(pk=1)\nx.select_for_update(no_key=True)\n"
    assert _calls_without_no_key(source, "probe.py") == ["probe.py:1"]


def test_the_raw_lock_prefers_no_key_update():
    text = (ROOT / "processes" / "locking.py").read_text()
    assert '"FOR NO KEY UPDATE" if connection.features.has_select_for_no_key_update else "FOR UPDATE"' in text
