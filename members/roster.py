"""Reading roster files (docs/rules.md §2): .xlsx or .csv, header row of field codes or Chinese labels.

This module only turns bytes into rows of raw values and reports what it cannot read as
(row, column, message); the service validates each row and writes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from unionfunds.core.tables import TableError, cell_text, read_table

from .choices import WorkerGroup

# field code -> Chinese label, in template order
COLUMNS = {
    "name": "姓名",
    "id_number": "身份证号",
    "gender": "性别",
    "phone": "手机号",
    "group": "群体",
    "platform": "平台或单位",
    "joined_on": "入会日期",
}
REQUIRED = ("name", "id_number", "group", "joined_on")
HEADER_ALIASES = {**{code: code for code in COLUMNS}, **{label: code for code, label in COLUMNS.items()}}
HEADER_ALIASES.update({"身份证号码": "id_number", "手机号码": "phone", "手机": "phone", "平台": "platform"})

# The file format is Chinese (headers, template, dropdown); a group may be a code or a label.
FILE_LANGUAGE = "zh-hans"
GENDER_ALIASES = {"M": "M", "F": "F", "男": "M", "女": "F", "m": "M", "f": "F"}
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass
class RosterRow:
    number: int  # the row number a person sees in their spreadsheet (header is row 1)
    values: dict[str, Any]
    columns: dict[str, str]  # field code -> header as written in the file, for error messages


@dataclass
class ParsedRoster:
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)

    def error(self, row: int, column: str, message: str) -> None:
        self.errors.append({"row": row, "column": column, "message": message})


_text = cell_text


def _date(value: Any) -> dt.date | str | None:
    """A date, None when empty, or the raw text when it cannot be read as a date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    if not text:
        return None
    if ISO_DATE.fullmatch(text):  # the common spelling, read fast (100,000 rows)
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return text
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return text


def _group_aliases() -> dict[str, str]:
    """Group code by code or label, the label in any language of the site (computed per call, not at
    import time, when the active language is whichever the first request chose)."""
    aliases = {g.value: g.value for g in WorkerGroup}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            aliases.update({str(g.label): g.value for g in WorkerGroup})
    return aliases


def choices_text(pairs) -> str:
    """``name（姓名）、id_number（身份证号）…``: codes with their labels, for error messages."""
    return pgettext("list separator", "、").join(
        _("%(code)s（%(label)s）") % {"code": code, "label": label} for code, label in pairs
    )


def _size(limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):g} MB"
    return f"{limit / 1024:.0f} KB" if limit >= 1024 else _("%(n)d 字节") % {"n": limit}


def parse_roster(filename: str, content: bytes) -> ParsedRoster:
    parsed = ParsedRoster()
    limit = settings.UPLOAD_MAX_BYTES
    if len(content) > limit:
        parsed.error(1, "", _("文件超过 %(size)s，请拆分后分批导入。") % {"size": _size(limit)})
        return parsed
    try:
        table = read_table(content)
    except TableError as exc:
        parsed.error(exc.row or 1, "", str(exc))
        return parsed

    # the reader skips empty rows (row numbers stay those of the sheet); the first row is the header
    if not table:
        parsed.error(1, "", _("文件中没有表头行。"))
        return parsed
    header_row, header_cells = table[0]

    header = [_text(c) for c in header_cells]
    index: dict[str, int] = {}
    labels: dict[str, str] = {}
    for position, raw in enumerate(header):
        if not raw:
            continue
        code = HEADER_ALIASES.get(raw) or HEADER_ALIASES.get(raw.lower())
        if code is None:
            parsed.error(
                header_row,
                raw,
                _("未知的列「%(column)s」。可用列：%(columns)s。")
                % {"column": raw, "columns": choices_text(COLUMNS.items())},
            )
            continue
        if code in index:
            parsed.error(header_row, raw, _("列「%(column)s」重复。") % {"column": raw})
            continue
        index[code] = position
        labels[code] = raw
    for code in REQUIRED:
        if code not in index:
            parsed.error(
                header_row,
                COLUMNS[code],
                _("缺少必填列「%(label)s」（%(code)s）。") % {"label": COLUMNS[code], "code": code},
            )
    if parsed.errors:
        return parsed

    group_aliases = _group_aliases()
    for offset, cells in table[1:]:
        if len(cells) > len(header):  # the reader keeps one cell past the header when the row has more
            parsed.error(offset, "", _("此行的列数多于表头。"))
            continue

        def cell(code: str, cells=cells) -> Any:
            position = index.get(code)
            return cells[position] if position is not None and position < len(cells) else None

        values: dict[str, Any] = {
            "name": _text(cell("name")),
            "id_number": _text(cell("id_number")),
            "phone": _text(cell("phone")),
            "platform": _text(cell("platform")),
        }
        gender_raw = _text(cell("gender"))
        if gender_raw and gender_raw not in GENDER_ALIASES:
            parsed.error(offset, labels["gender"], _("性别「%(value)s」应为 男/女 或 M/F。") % {"value": gender_raw})
            continue
        values["gender"] = GENDER_ALIASES.get(gender_raw, "")
        group_raw = _text(cell("group"))
        values["group"] = group_aliases.get(group_raw, group_raw)
        joined = _date(cell("joined_on"))
        if isinstance(joined, str):
            parsed.error(
                offset, labels["joined_on"], _("入会日期「%(value)s」无法识别，请写成 2024-01-31。") % {"value": joined}
            )
            continue
        values["joined_on"] = joined
        parsed.rows.append(RosterRow(number=offset, values=values, columns=labels))
    return parsed


def template_csv() -> bytes:
    """The downloadable template: Chinese headers, one example row, UTF-8 with BOM for Excel."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS.values())
    writer.writerow(["张三", "11010519491231002X", "女", "13800138000", "外卖配送员", "美团", "2024-01-15"])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx() -> bytes:
    from openpyxl import Workbook
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "会员名册"
    sheet.append(list(COLUMNS.values()))
    sheet.append(["张三", "11010519491231002X", "女", "13800138000", "外卖配送员", "美团", "2024-01-15"])
    for letter, width in zip("ABCDEFG", (10, 22, 6, 14, 14, 16, 12), strict=True):
        sheet.column_dimensions[letter].width = width
    for column in ("B", "D", "G"):
        for row in range(1, 5001):
            sheet[f"{column}{row}"].number_format = "@"  # keep ID and phone numbers as text
    with translation.override(FILE_LANGUAGE):
        labels = [str(g.label) for g in WorkerGroup]
    groups = DataValidation(type="list", formula1='"' + ",".join(labels) + '"')
    sheet.add_data_validation(groups)
    groups.add("E2:E5000")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
