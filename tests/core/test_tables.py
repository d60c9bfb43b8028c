"""The one spreadsheet reader of every import: its memory follows the cells a file really holds.

The attack class: a small upload that claims, or unpacks to, far more than it holds — a declared
dimension of A1:XFD1048576, a row of half a million empty cells, a million empty rows, a zip entry
that unpacks a thousandfold, a CSV record of a million empty fields. Each is read in a child process
whose address space is capped (so a reader that trusts the claim fails there instead of taking the
machine) while tracemalloc measures the peak.
"""

import re

import pytest

from members.roster import parse_roster
from tests.spreadsheets import BUDGET, HEADER, MB, crafted, edit_sheet, read_in_child, workbook
from unionfunds.core import tables
from unionfunds.core.tables import TableError, read_table


def rows_read(content: bytes) -> int:
    return len(read_table(content))


def roster_rows(content: bytes) -> str:
    parsed = parse_roster("crafted.xlsx", content)
    return f"{len(parsed.rows)} rows, errors at {sorted({e['row'] for e in parsed.errors})}"


# ---------------------------------------------------------------- the declared dimension


@pytest.mark.parametrize("last_row", [8000, 1_048_576])
@pytest.mark.parametrize("read", [rows_read, roster_rows], ids=["reader", "roster"])
def test_a_declared_dimension_costs_nothing(read, last_row):
    content = crafted(last_row)
    assert len(content) < 8000  # a few KB on the wire
    outcome, peak = read_in_child(read, content)
    assert outcome.startswith("read"), outcome
    assert peak < BUDGET, f"reading took {peak / MB:.0f} MB"


def table_shape(content: bytes) -> list:
    return [(number, len(cells), cells[0]) for number, cells in read_table(content)]


def test_the_crafted_file_reads_as_the_cells_it_holds():
    outcome, _peak = read_in_child(table_shape, crafted(1_048_576))
    assert outcome == f"read {[(1, len(HEADER), '姓名'), (1_048_576, len(HEADER), '张三')]}"


def test_columns_are_those_of_the_header_and_a_cell_past_it_is_kept_as_one_extra():
    content = workbook({1: ["a", "b"], 2: ["1", "2"], 3: ["x"], 5: ["y", None, None, "far"]})
    content = edit_sheet(content, lambda xml: xml.replace(b'r="D5"', b'r="XFD5"'))
    assert read_table(content) == [(1, ["a", "b"]), (2, ["1", "2"]), (3, ["x", None]), (5, ["y", None, "far"])]


# ---------------------------------------------------------------- unpacking more than is sent


def test_a_row_of_half_a_million_empty_cells_is_refused_in_bounded_memory():
    cells = b"<c/>" * 500_000
    content = edit_sheet(
        workbook({1: ["a", "b"], 2: ["x"]}), lambda xml: xml.replace(b'<row r="2">', b'<row r="2">' + cells)
    )
    assert len(content) < 10_000
    outcome, peak = read_in_child(rows_read, content)
    assert outcome.startswith("refused: 第 2 行的单元格超过 1024 个"), outcome
    assert peak < BUDGET, f"reading took {peak / MB:.0f} MB"


def test_rows_of_empty_cells_up_to_the_limit_are_read():
    cells = b"<c/>" * 1023  # and the one filled cell of the row
    content = edit_sheet(
        workbook({1: ["a"], 2: ["x"]}), lambda xml: xml.replace(b'<row r="2">', b'<row r="2">' + cells)
    )
    assert read_table(content) == [(1, ["a"]), (2, ["x"])]


def test_empty_rows_are_read_in_bounded_memory_and_a_sheet_of_them_is_refused(settings):
    empty = b"<row/>" * 50_000
    content = edit_sheet(
        workbook({1: ["a"], 2: ["x"]}),
        lambda xml: xml.replace(
            b"</sheetData>",
            empty + b'<row r="900000"><c r="A900000" t="inlineStr"><is><t>y</t></is></c></row></sheetData>',
        ),
    )
    outcome, peak = read_in_child(rows_read, content)
    assert outcome == "read 3", outcome
    assert peak < BUDGET, f"reading took {peak / MB:.0f} MB"
    # Time, too, follows what a genuine file of the allowed rows could hold, not what a zip can unpack.
    settings.IMPORT_MAX_ROWS = 100
    with pytest.raises(TableError, match="单元格过多"):
        read_table(content)


def test_a_workbook_that_unpacks_past_the_limit_is_refused_before_unpacking(monkeypatch):
    monkeypatch.setattr(tables, "XLSX_MAX_UNPACKED", 1 * MB)
    padding = b"<row/>" * (MB // 5)
    content = edit_sheet(workbook({1: ["a"]}), lambda xml: xml.replace(b"</sheetData>", padding + b"</sheetData>"))
    assert len(content) < 100_000
    with pytest.raises(TableError, match="解压后超过 1 MB"):
        read_table(content)


def test_a_cell_of_endless_parts_is_refused():
    runs = b"<r><t>x</t></r>" * 2000
    content = edit_sheet(
        workbook({1: ["a"], 2: ["x"]}), lambda xml: re.sub(rb"<is><t>x</t></is>", b"<is>" + runs + b"</is>", xml)
    )
    with pytest.raises(TableError, match="第 2 行") as refused:
        read_table(content)
    assert refused.value.row == 2


def corrupted(content: bytes) -> bytes:
    """The workbook with the compressed bytes of its sheet overwritten."""
    data = bytearray(content)
    start = data.index(b"xl/worksheets/sheet1.xml") + len(b"xl/worksheets/sheet1.xml") + 10
    data[start : start + 40] = b"\xff" * 40
    return bytes(data)


@pytest.mark.parametrize(
    "content",
    [
        b"PK\x03\x04" + b"\x00" * 100,  # a zip header and nothing else
        corrupted(workbook({1: ["a"]})),
        edit_sheet(workbook({1: ["a"]}), lambda xml: xml.replace(b"<sheetData>", b"<sheetData><row><c")),
        edit_sheet(
            workbook({1: ["a"]}), lambda xml: re.sub(rb'<c r="A1".*?</c>', b'<c r="A1" t="s"><v>99</v></c>', xml)
        ),
    ],
    ids=["truncated", "corrupt-entry", "bad-xml", "missing-shared-string"],
)
def test_a_damaged_workbook_is_refused_with_a_message(content):
    with pytest.raises(TableError, match=r"\.xlsx"):
        read_table(content)


# ---------------------------------------------------------------- CSV, the same limits


def test_a_csv_record_of_a_million_empty_fields_is_refused_in_bounded_memory():
    content = ("a,b\n" + "," * 1_000_000 + "\n").encode()
    outcome, peak = read_in_child(rows_read, content)
    assert outcome.startswith("refused: 第 2 行"), outcome
    assert peak < BUDGET, f"reading took {peak / MB:.0f} MB"


def test_csv_quoted_line_breaks_cannot_join_lines_past_the_record_limit():
    many = '"' + "\n".join(["x" * 100] * 1000) + '"'
    with pytest.raises(TableError, match="第 2 行") as refused:
        read_table(f"a\n{many}\n".encode())
    assert refused.value.row == 2


def test_csv_rows_keep_the_header_width_plus_one_extra_cell():
    content = "\n".join(["a,b,,", "1,2,,", ",,,", "x", "y,,far,"]).encode()
    assert read_table(content) == [(1, ["a", "b"]), (2, ["1", "2"]), (4, ["x"]), (5, ["y", "", "far"])]


def test_a_header_wider_than_any_template_is_refused():
    with pytest.raises(TableError, match="表头超过 64 列"):
        read_table((",".join(f"c{i}" for i in range(65)) + "\n").encode())
    wide = workbook({1: ["a"]})
    wide = edit_sheet(
        wide, lambda xml: xml.replace(b"</row>", b'<c r="XFD1" t="inlineStr"><is><t>z</t></is></c></row>', 1)
    )
    with pytest.raises(TableError, match="表头超过 64 列"):
        read_table(wide)


# ---------------------------------------------------------------- the row cap


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_rows_past_the_cap_are_refused_naming_the_first_row_past_it(kind):
    rows = {1: ["a", "b"], **{n: [f"v{n}", "1"] for n in range(2, 8)}, 9: ["", ""]}
    if kind == "csv":
        content = "\n".join(",".join(values) for values in rows.values()).encode()
    else:
        content = workbook(rows)
    assert len(read_table(content, max_rows=6)) == 7  # exactly the cap: read
    with pytest.raises(TableError, match="第 7 行：表格超过 5 行数据") as refused:
        read_table(content, max_rows=5)
    assert refused.value.row == 7


def test_the_cap_is_a_setting(settings):
    settings.IMPORT_MAX_ROWS = 2
    with pytest.raises(TableError, match="超过 2 行数据"):
        read_table(b"a\n1\n2\n3\n")
