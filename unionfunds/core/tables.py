"""Reading a spreadsheet upload (.xlsx, or .csv in UTF-8 with or without BOM, or GB18030 as Excel on
Chinese Windows saves it) into rows of cells. Used by every import (roster, survey answers); what the
rows mean is the caller's business. Anything unreadable raises ``TableError`` with a message a clerk
can act on.

The reader's memory follows the cells a file really holds, never what the file claims: a workbook may
declare ``A1:XFD1048576`` in a few hundred bytes, and a zip entry may unpack a thousandfold. So it
never pads rows to the declared dimension, keeps at most the header's width of cells per row, stops
after ``settings.IMPORT_MAX_ROWS`` data rows, and bounds what one row, one cell or the unpacked
workbook may cost before any of it is held.
"""

import csv
import io
import re
import zipfile
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls / .doc
# Control bytes never found in UTF-8 or GB18030 text (PNG, PDF, UTF-16, other binaries have them).
_BINARY = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# A header wider than this is not one of our templates (the roster has 7 columns, the survey 3).
MAX_COLUMNS = 64
# One CSV record (physical lines of one row): far above a real row, far below a million empty fields.
MAX_RECORD_CHARS = 64 * 1024
# An .xlsx unpacked: a 100,000-row roster is about 40 MB of sheet XML; more is a zip bomb.
XLSX_MAX_UNPACKED = 128 * 1024 * 1024
XLSX_MAX_ENTRIES = 1000  # a workbook has a dozen parts
XLSX_MAX_CELL_PARTS = 256  # elements inside one cell (<v>, <is>, rich-text runs)
XLSX_MAX_ROW_CELLS = 1024  # cell elements in one row, empty ones included; the header has at most 64
# XML elements per data row the cap allows: a full-size file with 20 text columns has about 61. Bounds
# the time a sheet of empty rows or cells costs, however well it compresses.
XLSX_ELEMENTS_PER_ROW = 80

_ROW = f"{{{SHEET_MAIN_NS}}}row"
_CELL = f"{{{SHEET_MAIN_NS}}}c"


class TableError(ValueError):
    """An upload that cannot be read as a table; ``row`` is the sheet row the problem was found at."""

    def __init__(self, message: str, *, row: int | None = None):
        super().__init__(message)
        self.row = row


# (number, cells): the row number the spreadsheet shows (1-based, empty rows counted) and the row's cells.
TableRow = tuple[int, list[Any]]


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # spreadsheets turn phone numbers into floats
    return str(value).strip()


def _filled(cells) -> bool:
    for value in cells:
        if value is not None and (value.strip() if isinstance(value, str) else cell_text(value)):
            return True
    return False


def read_table(content: bytes, *, max_rows: int | None = None) -> list[TableRow]:
    """The non-empty rows of the first sheet (or of the CSV) with their sheet row numbers.

    The first non-empty row is the header. Each row keeps the cells under the header (none beyond
    its last filled cell); a row with something past the header gets one more cell, the first value
    found there, so the caller can say the row is longer than the header. More than ``max_rows``
    data rows (default ``settings.IMPORT_MAX_ROWS``) is refused.
    """
    if not content.strip():
        raise TableError(_("文件是空的。"))
    if content.startswith(OLE_MAGIC):
        raise TableError(_("不支持旧版 .xls 文件，请另存为 .xlsx 或 UTF-8 编码的 .csv。"))
    rows = _Rows(settings.IMPORT_MAX_ROWS if max_rows is None else max_rows)
    if content.startswith(XLSX_MAGIC):
        _read_xlsx(content, rows)
    else:
        _read_csv(content, rows)
    return rows.rows


class _Rows:
    """Collects the rows as the file is read, enforcing the width and row limits as it goes."""

    def __init__(self, max_rows: int):
        self.rows: list[TableRow] = []
        self.width: int | None = None  # the header's, once found
        self.max_rows = max_rows

    def add(self, number: int, cells: list[Any], overflow: Any = None) -> None:
        """``overflow``: the first value the reader found past the columns it kept, if any."""
        width = self.width
        if width is None:
            if overflow is None and not _filled(cells):
                return  # empty rows above the header
            filled = [i for i, value in enumerate(cells) if cell_text(value)]
            if overflow is not None or (filled and filled[-1] >= MAX_COLUMNS):
                raise TableError(_("表头超过 %(n)d 列，这不是导入模板。") % {"n": MAX_COLUMNS}, row=number)
            self.width = filled[-1] + 1
            self.rows.append((number, list(cells[: self.width])))
            return
        if len(cells) > width:
            if overflow is None:
                overflow = next((value for value in cells[width:] if cell_text(value)), None)
            cells = cells[:width]
        if overflow is None and not _filled(cells):
            return
        if overflow is not None:
            cells = [*cells, *[None] * (width - len(cells)), overflow]
        self.keep(number, cells)

    def keep(self, number: int, cells: list[Any]) -> None:
        """A data row to keep: not empty, cut to the header's width (plus the one overflow cell, if any)."""
        if len(self.rows) > self.max_rows:  # the header is rows[0]
            raise TableError(
                _("第 %(row)d 行：表格超过 %(n)s 行数据，请拆分后分批导入。")
                % {"row": number, "n": f"{self.max_rows:,}"},
                row=number,
            )
        self.rows.append((number, cells))


# ---------------------------------------------------------------- CSV


class _RecordTooLong(Exception):
    pass


class _Lines:
    """Feeds ``csv.reader`` one line at a time and stops a record that grows past ``MAX_RECORD_CHARS``
    (quoted line breaks can join any number of lines, and every comma is a field held in memory).
    The reader sets ``used`` back to 0 after each record."""

    def __init__(self, text: str):
        self._lines = io.StringIO(text, newline="")
        self.used = 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.used += len(line)
        if self.used > MAX_RECORD_CHARS:
            raise _RecordTooLong
        return line


def _read_csv(content: bytes, rows: _Rows) -> None:
    if _BINARY.search(content[:4096]):
        raise TableError(_("文件不是表格：请上传 .xlsx 或 UTF-8 编码的 .csv 文件。"))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("gb18030")
        except UnicodeDecodeError:
            raise TableError(_("无法识别文件编码：请将 CSV 另存为 UTF-8 编码，或上传 .xlsx 文件。")) from None
    lines = _Lines(text)
    number = 0
    kept, cap = rows.rows, rows.max_rows  # kept[0] is the header: a row past the cap takes the slow path
    try:
        for number, cells in enumerate(csv.reader(lines, strict=True), start=1):
            lines.used = 0
            width = rows.width
            if width is not None and len(cells) <= width and len(kept) <= cap:
                # The common row, read fast (100,000 of them): every cell is text; filled if any cell is.
                if cells and (cells[0].strip() or "".join(cells).strip()):
                    kept.append((number, cells))
            else:
                rows.add(number, cells)
    except _RecordTooLong:
        raise TableError(
            _("第 %(row)d 行超过 %(n)d 个字符，这不是导入模板。") % {"row": number + 1, "n": MAX_RECORD_CHARS},
            row=number + 1,
        ) from None
    except csv.Error as exc:
        raise TableError(_("CSV 格式错误：%(error)s。请检查引号是否成对。") % {"error": exc}) from None


# ---------------------------------------------------------------- xlsx


def _unreadable_xlsx() -> TableError:
    return TableError(_("无法读取 .xlsx 文件：文件已损坏或不是 Excel 工作簿。"))


def _check_archive(content: bytes) -> None:
    """Refuse before unpacking anything: the zip's directory says what each part unpacks to, and
    reading never yields more than that."""
    # Each directory entry costs memory when the zip is opened: count them first (a cheap upper bound).
    if content.count(b"PK\x01\x02") > XLSX_MAX_ENTRIES:
        raise _unreadable_xlsx()
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _unreadable_xlsx() from None
    if unpacked > XLSX_MAX_UNPACKED:
        raise TableError(
            _("工作簿解压后超过 %(mb)d MB，请拆分后分批导入。") % {"mb": XLSX_MAX_UNPACKED // (1024 * 1024)}
        )


def _read_xlsx(content: bytes, rows: _Rows) -> None:
    _check_archive(content)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a damaged or foreign zip
        raise _unreadable_xlsx() from None
    try:
        if not workbook.worksheets:
            raise _unreadable_xlsx()
        sheet = workbook.worksheets[0]
        # openpyxl's own cell reading (shared strings, dates by style, inline strings), driven row by row
        # here: its row iterator pads every row, and the sheet, to the dimension the file declares.
        with workbook._archive.open(sheet._worksheet_path) as source:
            parser = WorkSheetParser(
                source,
                sheet._shared_strings,
                data_only=True,
                epoch=workbook.epoch,
                date_formats=workbook._date_formats,
                timedelta_formats=workbook._timedelta_formats,
            )
            _read_sheet(source, parser, rows)
    except TableError:
        raise
    except Exception:  # bad XML, a shared string that does not exist, a corrupt zip entry
        raise _unreadable_xlsx() from None
    finally:
        workbook.close()


def _read_sheet(source, parser: WorkSheetParser, rows: _Rows) -> None:
    """Stream the sheet XML: every element is dropped from the tree once read, so memory holds one
    row's kept cells, whatever the file declares or however its rows are padded."""
    path: list = []  # open elements outside cells, outermost first
    push, pop = path.append, path.pop
    in_cell = False
    inner = parts = 0  # open elements inside the current cell, and all it has had (kept until it is read)
    budget = (rows.max_rows + 1) * XLSX_ELEMENTS_PER_ROW
    number = cells_in_row = 0
    values: list[Any] = []
    overflow = None
    for event, element in iterparse(source, events=("start", "end")):
        if event == "start":
            budget -= 1
            if budget < 0:
                raise TableError(_("工作簿中的单元格过多（含空白单元格），请删去多余的行列或拆分后分批导入。"))
            if in_cell:
                inner += 1
                parts += 1
                if parts > XLSX_MAX_CELL_PARTS:
                    raise TableError(_("第 %(row)d 行有单元格内容过于复杂。") % {"row": number}, row=number)
                continue
            tag = element.tag
            if tag == _CELL:
                in_cell, parts = True, 0
                cells_in_row += 1
                if cells_in_row > XLSX_MAX_ROW_CELLS:
                    raise TableError(
                        _("第 %(row)d 行的单元格超过 %(n)d 个（含空白单元格）。")
                        % {"row": number, "n": XLSX_MAX_ROW_CELLS},
                        row=number,
                    )
            elif tag == _ROW:
                attribute = element.get("r")
                number = int(attribute) if attribute else number + 1
                parser.row_counter, parser.col_counter = number, 0
                values, overflow, cells_in_row = [None] * (rows.width or MAX_COLUMNS), None, 0
            push(element)
            continue
        if inner:
            inner -= 1  # a part of the cell: parse_cell reads it when the cell ends
            continue
        pop()
        if in_cell:  # the cell itself ends
            in_cell = False
            cell = parser.parse_cell(element)
            value = cell["value"]
            if value is not None:
                column = cell["column"]
                if column <= len(values):
                    values[column - 1] = value
                elif overflow is None and cell_text(value):
                    overflow = value
        elif element.tag == _ROW:
            rows.add(number, values, overflow)
        if path:
            path[-1].remove(element)  # the parent's only child: every earlier one is gone already
