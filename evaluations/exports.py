"""Evaluations as CSV and XLSX: one row per evaluation, four columns per KPI (value, target, met,
sample size). The queryset comes scoped and prefetched from the admin (two queries in all)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from core.text import localized_name
from evaluations.models import Evaluation, Kpi
from evaluations.periods import TZ, Period

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A text cell starting with one of these is run as a formula by Excel, LibreOffice and Sheets
# (CSV injection: https://owasp.org/www-community/attacks/CSV_Injection). Names come from the admin.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: Any) -> Any:
    """A CSV field that a spreadsheet shows as text: a leading apostrophe before a formula start."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def xlsx_cell(sheet, value: Any) -> WriteOnlyCell:
    """An XLSX cell; text is stored as a string cell, never as a formula (openpyxl makes any str
    starting with '=' a formula), so the name shows exactly as written."""
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def _codes(evaluations: list[Evaluation]) -> list[str]:
    order = {code: i for i, code in enumerate(Kpi.Code.values)}
    found = {s.kpi_code for e in evaluations for s in e.scores.all()}
    return sorted(found, key=lambda c: order.get(c, len(order)))


def header(codes: list[str]) -> list[str]:
    columns = [
        "department",
        "department_name",
        "period",
        "label",
        "period_start",
        "period_end",
        "overall_score",
        "grade",
        "computed_at",
    ]
    for code in codes:
        columns += [f"{code}", f"{code}_target", f"{code}_met", f"{code}_n"]
    return columns


def rows(evaluations: list[Evaluation], codes: list[str]) -> Iterator[list[Any]]:
    for e in evaluations:
        scores = {s.kpi_code: s for s in e.scores.all()}
        row: list[Any] = [
            e.department.code,
            localized_name(e.department),
            e.kind,
            Period(e.kind, e.period_start).label,
            e.period_start,
            e.period_end,
            e.overall_score,
            e.grade,
            timezone.localtime(e.computed_at, TZ).replace(tzinfo=None, microsecond=0),
        ]
        for code in codes:
            s = scores.get(code)
            row += [s.value, s.target, s.met, s.sample_size] if s else [None, None, None, None]
        yield row


def _filename(extension: str) -> str:
    return f"evaluations-{timezone.localtime(timezone.now(), TZ):%Y%m%d-%H%M}.{extension}"


def as_csv(evaluations: Iterable[Evaluation]) -> HttpResponse:
    evaluations = list(evaluations)
    codes = _codes(evaluations)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_text(v) for v in header(codes)])
    for row in rows(evaluations, codes):
        writer.writerow(["" if v is None else csv_text(v) for v in row])
    # With a byte-order mark, Excel opens the Chinese department names as UTF-8.
    response = HttpResponse(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename("csv")}"'
    return response


def as_xlsx(evaluations: Iterable[Evaluation]) -> HttpResponse:
    evaluations = list(evaluations)
    codes = _codes(evaluations)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("evaluations")
    sheet.append([xlsx_cell(sheet, v) for v in header(codes)])
    for row in rows(evaluations, codes):
        sheet.append([xlsx_cell(sheet, v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{_filename("xlsx")}"'
    return response
