"""CSV and xlsx exports with formula injection neutralised (docs/benchmarks.md).

A text cell whose first character other than white space is ``= + - @``, or their full-width forms
``＝ ＋ － ＠`` (spreadsheets in a Chinese locale read ``＝1+1`` as a formula too), or that starts with a
tab or carriage return, is prefixed with an apostrophe, so a union named ``=HYPERLINK(...)`` or
``　＝HYPERLINK(...)`` stays text. Numbers and dates are written as such (never neutralised: they
cannot carry a formula).
"""

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

FORMULA_STARTS = ("=", "+", "-", "@", "＝", "＋", "－", "＠")


def neutralise(value):
    if isinstance(value, str) and (value[:1] in ("\t", "\r") or value.lstrip().startswith(FORMULA_STARTS)):
        return "'" + value
    return value


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}" if value.as_tuple().exponent == -2 else str(value)
    if isinstance(value, dt.datetime):
        # Local (Asia/Shanghai) time with its offset, as the JSON API and the xlsx export show it.
        return (timezone.localtime(value) if timezone.is_aware(value) else value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(neutralise(value) if isinstance(value, str) else value)


def to_csv(headers: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """UTF-8 with BOM so Excel opens Chinese text correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in headers])
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(headers: Sequence[str], rows: Iterable[Sequence], *, sheet_title: str = "export") -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    bold = Font(bold=True)
    header_cells = []
    for h in headers:
        cell = WriteOnlyCell(sheet, value=neutralise(h))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        values = []
        for value in row:
            if isinstance(value, dt.datetime):
                # Excel has no time zones: write the local (Asia/Shanghai) wall-clock time.
                value = timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
            elif isinstance(value, str):
                value = neutralise(value)
            values.append(value)
        sheet.append(values)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
