"""The Simplified Chinese catalogue is complete, and the product's strings come out in Chinese.

No database: the catalogue is read with Babel (a project dependency) and compiled into a temporary
directory, so these tests do not depend on `make catalogues` having run.
"""

from __future__ import annotations

import gettext
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.test import override_settings
from django.utils import translation

PO_PATH = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _catalog():
    with PO_PATH.open("rb") as f:
        return read_po(f, locale="zh_Hans")


def _is_untranslated(message) -> bool:
    strings = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
    return not strings or any(not s for s in strings)


def _label(message) -> str:
    msgid = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
    return f"{message.context}|{msgid}" if message.context else msgid


def test_every_entry_is_translated_and_not_fuzzy():
    catalog = _catalog()
    messages = [m for m in catalog if m.id]  # the header entry has the empty msgid
    assert messages, f"{PO_PATH} has no entries"
    untranslated = [_label(m) for m in messages if _is_untranslated(m)]
    fuzzy = [_label(m) for m in messages if m.fuzzy]
    problems = [f"untranslated: {x!r}" for x in untranslated] + [f"fuzzy: {x!r}" for x in fuzzy]
    assert not problems, f"{len(problems)} problem(s) in {PO_PATH.name}:\n" + "\n".join(problems)


def test_header_is_usable():
    """A fuzzy header makes Babel skip the whole catalogue; Chinese has a single plural form."""
    catalog = _catalog()
    assert not catalog.fuzzy, "the header entry is marked fuzzy: pybabel compile would skip the catalogue"
    assert catalog.num_plurals == 1
    assert catalog.plural_expr.strip() == "0"
    assert catalog.charset.lower() == "utf-8"


def test_placeholders_survive_translation():
    """Babel's checkers: python-format placeholders of msgstr match the msgid's."""
    errors = [
        f"{_label(message)!r}: {'; '.join(str(e) for e in errs)}" for message, errs in _catalog().check()
    ]
    assert not errors, "\n".join(errors)


@pytest.fixture
def compiled_locale(tmp_path):
    """The catalogue compiled with Babel into a temporary locale directory."""
    target = tmp_path / "zh_Hans" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "django.mo").open("wb") as f:
        write_mo(f, _catalog())
    return tmp_path


def test_compiled_catalogue_loads_with_gettext(compiled_locale):
    with (compiled_locale / "zh_Hans" / "LC_MESSAGES" / "django.mo").open("rb") as f:
        catalogue = gettext.GNUTranslations(f)
    assert catalogue.gettext("Queue") == "待办队列"
    assert catalogue.gettext("due soon") == "即将到期"
    assert catalogue.ngettext("%(days)s day left", "%(days)s days left", 3) % {"days": 3} == "剩余 3 天"


def test_product_strings_come_out_in_chinese(compiled_locale):
    """With zh-hans active, the product's own (lazy) strings read in Chinese, and in English with en."""
    from departments.models import Membership
    from processes.models import Handoff
    from processes.selectors import SLA_BADGE_LABELS

    with override_settings(LOCALE_PATHS=[str(compiled_locale)]):
        with translation.override("zh-hans"):
            assert translation.gettext("Queue") == "待办队列"
            assert str(SLA_BADGE_LABELS["breached"]) == "已超时"
            assert str(SLA_BADGE_LABELS["due_soon"]) == "即将到期"
            assert str(Handoff.Status.ACCEPTED.label) == "已签收"
            assert str(Handoff._meta.verbose_name) == "交接单"
            assert str(Membership.Role.LEAD.label) == "负责人"
            assert (
                translation.ngettext("reopened once", "reopened %(counter)s times", 2) % {"counter": 2}
                == "已重开 2 次"
            )
        with translation.override("en"):
            assert str(SLA_BADGE_LABELS["breached"]) == "breached"
