"""Reading a spreadsheet upload (.xlsx, or .csv in UTF-8 with or without BOM, or GB18030 as Excel on
Chinese Windows saves it) into rows of cells. Used by the roster import and the survey import; what
the rows mean is the caller's business. Anything unreadable raises ``TableError`` with a message a
clerk can act on."""

import csv
import io
import re
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import load_workbook

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls / .doc
# Control bytes never found in UTF-8 or GB18030 text (PNG, PDF, UTF-16, other binaries have them).
_BINARY = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class TableError(ValueError):
    pass


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # spreadsheets turn phone numbers into floats
    return str(value).strip()


def read_table(content: bytes) -> list[list[Any]]:
    """All rows of the first sheet (or of the CSV), trailing empty rows removed."""
    if not content.strip():
        raise TableError(_("文件是空的。"))
    if content.startswith(OLE_MAGIC):
        raise TableError(_("不支持旧版 .xls 文件，请另存为 .xlsx 或 UTF-8 编码的 .csv。"))
    table = _read_xlsx(content) if content.startswith(XLSX_MAGIC) else _read_csv(content)
    while table and not any(cell_text(c) for c in table[-1]):
        table.pop()
    return table


def _read_csv(content: bytes) -> list[list[Any]]:
    if _BINARY.search(content[:4096]):
        raise TableError(_("文件不是表格：请上传 .xlsx 或 UTF-8 编码的 .csv 文件。"))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("gb18030")
        except UnicodeDecodeError:
            raise TableError(_("无法识别文件编码：请将 CSV 另存为 UTF-8 编码，或上传 .xlsx 文件。")) from None
    try:
        return list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise TableError(_("CSV 格式错误：%(error)s。请检查引号是否成对。") % {"error": exc}) from None


def _read_xlsx(content: bytes) -> list[list[Any]]:
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a damaged or foreign zip
        raise TableError(_("无法读取 .xlsx 文件：文件已损坏或不是 Excel 工作簿。")) from None
    try:
        return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()
