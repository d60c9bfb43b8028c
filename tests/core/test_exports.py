"""CSV and xlsx exports (docs/benchmarks.md): UTF-8 with BOM for Excel, real numbers and local times, and no cell
that a spreadsheet would run as a formula."""

import csv
import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from unionfunds.core.exports import neutralise, to_csv, to_xlsx

UTC = dt.UTC
FORMULAS = [
    '=HYPERLINK("http://x","点我")',
    "+1",
    "-1",
    "@SUM(A1)",
    "=1+1",
    "\t=1",
    "\r=1",
    # Full-width forms, which spreadsheets in a Chinese locale also take as a formula start…
    '＝HYPERLINK("http://x","点我")',
    "＋1",
    "－1",
    "＠SUM(A1)",
    # …and white space before any of them, which they skip.
    " =1",
    "  +1",
    "\u3000＝1+1",
    "\n=1",
]
HEADERS = ["id", "name", "amount", "rate", "paid_on", "updated_at", "note", "flag"]
ROW = [
    7,
    "西溪街道新就业形态联合工会",
    Decimal("60000.00"),
    Decimal("0.2500"),
    dt.date(2026, 3, 1),
    dt.datetime(2026, 3, 1, 2, 30, tzinfo=UTC),  # 10:30 in Hangzhou
    None,
    True,
]


@pytest.mark.parametrize("value", FORMULAS)
def test_neutralise_prefixes_every_formula_start(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize(
    "value", ["杭州市总工会", "A=B", "1-2", "user@example.com", "", " ", "A＝B", "１－２", 5, Decimal("-1.00"), None]
)
def test_neutralise_leaves_everything_else_alone(value):
    assert neutralise(value) == value


def _read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8 Chinese"
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def test_csv_has_a_bom_crlf_lines_and_reads_back(settings):
    data = to_csv(HEADERS, [ROW])
    assert b"\r\n" in data
    header, row = _read_csv(data)
    assert header == HEADERS
    assert row == [
        "7",
        "西溪街道新就业形态联合工会",
        "60000.00",
        "0.2500",
        "2026-03-01",
        "2026-03-01T10:30:00+08:00",  # local time, as the JSON API shows it
        "",
        "true",
    ]


def test_csv_keeps_money_at_two_places():
    (_, row) = _read_csv(to_csv(["a", "b", "c"], [[Decimal("5"), Decimal("5.5"), Decimal("1234567.89")]]))
    # A whole Decimal stays what it is; amounts that are money (two places) keep both places.
    assert row[2] == "1234567.89"
    assert row[0] == "5" and row[1] == "5.5"


def test_csv_neutralises_formulas_in_cells_and_headers():
    data = to_csv(["=cmd", "name"], [[1, f] for f in FORMULAS])
    header, *rows = _read_csv(data)
    assert header == ["'=cmd", "name"]
    assert [r[1] for r in rows] == ["'" + f for f in FORMULAS]


def test_csv_quotes_commas_quotes_and_newlines():
    tricky = '工会,"联合会"\n第二行'
    (_, row) = _read_csv(to_csv(["name"], [[tricky]]))
    assert row == [tricky]


def test_csv_accepts_a_generator_of_rows():
    rows = ([i, f"工会{i}"] for i in range(1000))
    _, *body = _read_csv(to_csv(["id", "name"], rows))
    assert len(body) == 1000 and body[-1] == ["999", "工会999"]


def _open_xlsx(data: bytes, **kwargs):
    return openpyxl.load_workbook(io.BytesIO(data), **kwargs)


def test_xlsx_opens_with_openpyxl_with_numbers_as_numbers_and_local_times():
    workbook = _open_xlsx(to_xlsx(HEADERS, [ROW], sheet_title="allocations"), read_only=True)
    assert workbook.sheetnames == ["allocations"]
    header, row = list(workbook["allocations"].values)
    assert list(header) == HEADERS
    values = dict(zip(HEADERS, row, strict=True))
    assert values["id"] == 7
    assert values["name"] == "西溪街道新就业形态联合工会"
    assert values["amount"] == 60000
    assert values["rate"] == 0.25
    assert values["paid_on"] == dt.datetime(2026, 3, 1)
    assert values["updated_at"] == dt.datetime(2026, 3, 1, 10, 30)  # Asia/Shanghai wall clock
    assert values["note"] is None
    assert values["flag"] is True


def test_xlsx_converts_any_time_zone_to_local():
    moment = dt.datetime(2026, 6, 30, 23, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # 05:00 next day in Hangzhou
    (_, row) = list(_open_xlsx(to_xlsx(["t"], [[moment]]), read_only=True).active.values)
    assert row[0] == dt.datetime(2026, 7, 1, 5, 0)


def test_xlsx_neutralises_formulas_so_cells_stay_text():
    workbook = _open_xlsx(to_xlsx(["=cmd", "name"], [[1, f] for f in FORMULAS]), read_only=True)
    rows = list(workbook.active.iter_rows())
    assert rows[0][0].value == "'=cmd"
    cells = [r[1] for r in rows[1:]]
    # (XML reads a bare carriage return back as a line feed; it still starts with the apostrophe.)
    assert [c.value for c in cells] == ["'" + f.replace("\r", "\n") for f in FORMULAS]
    assert {c.data_type for c in cells} == {"s"}


def test_xlsx_header_is_bold_and_long_sheet_titles_are_cut_to_excels_limit():
    workbook = _open_xlsx(to_xlsx(["id"], [[1]], sheet_title="下拨与使用明细" * 6))
    sheet = workbook.active
    assert len(sheet.title) == 31
    assert sheet["A1"].font.b is True
    assert sheet["A2"].font.b is not True
