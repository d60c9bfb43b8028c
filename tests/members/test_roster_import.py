"""Roster import (docs/rules.md §2): files built here with the csv module and openpyxl, all-or-nothing,
errors as (row, column, message) with the row numbers a person sees in their spreadsheet."""

import csv
import datetime as dt
import io
import json
import random
import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from openpyxl import Workbook

from members import fakes, roster, services
from members.models import Member, Union
from tests.spreadsheets import BUDGET, MB, crafted, declaring
from unionfunds.core.models import AuditEvent


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


CODES = ["name", "id_number", "gender", "phone", "group", "platform", "joined_on"]
LABELS = ["姓名", "身份证号", "性别", "手机号", "群体", "平台或单位", "入会日期"]


def id_number(seed: str, gender: str | None = None) -> str:
    return fakes.id_number(random.Random(seed), gender=gender)


def people(n: int, prefix: str = "p") -> list[list]:
    """n valid rows in code order: name, id, gender, phone, group, platform, joined_on (ISO text)."""
    rows = []
    for i in range(n):
        number = id_number(f"{prefix}{i}")
        rows.append(
            [
                f"会员{prefix}{i}",
                number,
                "男" if int(number[16]) % 2 else "女",
                f"1380013{i:04d}",
                "外卖配送员" if i % 2 else "courier",
                "美团",
                "2024-03-01",
            ]
        )
    return rows


def csv_bytes(header: list[str], rows: list[list], *, encoding: str = "utf-8", bom: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode(encoding)


def xlsx_bytes(header: list[str], rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def run(cast, content: bytes, filename: str = "roster.csv", union=None, by=None):
    return services.roster_import(
        union=union or cast.union_xihu, filename=filename, content=content, by=by or cast.officer
    )


def import_events():
    return list(AuditEvent.objects.filter(action="member.import"))


def assert_nothing_written(result, members_before: int = 0) -> None:
    assert not result.ok
    assert (result.created, result.updated) == (0, 0)
    assert Member.objects.count() == members_before
    assert not import_events()


# ---------------------------------------------------------------- good files


def test_csv_with_code_headers_imports_every_row(cast):
    rows = people(5)
    result = run(cast, csv_bytes(CODES, rows))

    assert result.as_dict() == {"created": 5, "updated": 0, "errors": []}
    members = list(Member.objects.filter(union=cast.union_xihu).order_by("name"))
    assert len(members) == 5
    first = Member.objects.get(name="会员p0")
    assert first.group == "courier"
    assert Member.objects.get(name="会员p1").group == "food_delivery"  # Chinese label accepted
    assert first.joined_on == dt.date(2024, 3, 1)
    assert first.phone == "13800130000"
    assert first.id_number_hash == services.hash_id_number(rows[0][1])
    [event] = import_events()
    assert event.actor == cast.officer
    assert (event.after["created"], event.after["updated"], event.after["rows"]) == (5, 0, 5)
    text = json.dumps(list(AuditEvent.objects.values()), default=str, ensure_ascii=False)
    stored = json.dumps(list(Member.objects.values()), default=str, ensure_ascii=False)
    for row in rows:
        assert row[1] not in text
        assert row[1] not in stored


def test_csv_with_chinese_headers_and_bom(cast):
    result = run(cast, csv_bytes(LABELS, people(3), bom=True))
    assert result.as_dict() == {"created": 3, "updated": 0, "errors": []}


def test_csv_with_chinese_headers_without_bom(cast):
    result = run(cast, csv_bytes(LABELS, people(3)))
    assert result.as_dict() == {"created": 3, "updated": 0, "errors": []}
    assert Member.objects.filter(name="会员p2").exists()


def test_csv_with_code_headers_and_bom(cast):
    # The BOM must not glue itself to the first header ("\ufeffname" would be an unknown column).
    result = run(cast, csv_bytes(CODES, people(2), bom=True))
    assert result.ok, result.errors


def test_gb18030_csv_keeps_chinese_names(cast):
    rows = people(2)
    rows[0][0] = "欧阳娜娜"
    result = run(cast, csv_bytes(LABELS, rows, encoding="gb18030"))
    assert result.ok, result.errors
    assert Member.objects.filter(name="欧阳娜娜", platform="美团").exists()


def test_xlsx_with_real_date_cells_and_numeric_phones(cast):
    rows = people(3)
    for i, row in enumerate(rows):
        row[3] = int(row[3])  # phone typed into Excel becomes a number
        row[6] = dt.datetime(2023, 7, 10 + i)  # a real date cell
    rows[2][3] = float(rows[2][3])  # some tools write numbers as floats
    result = run(cast, xlsx_bytes(LABELS, rows), filename="名册.xlsx")

    assert result.as_dict() == {"created": 3, "updated": 0, "errors": []}
    first = Member.objects.get(name="会员p0")
    assert first.phone == "13800130000"
    assert first.joined_on == dt.date(2023, 7, 10)
    assert Member.objects.get(name="会员p2").phone == "13800130002"


def test_other_date_spellings_and_optional_columns(cast):
    rows = people(3)
    rows[0][6] = "2024/1/5"
    rows[1][6] = "2024年2月6日"
    rows[2][6] = "20240307"
    for row in rows:
        row[2] = ""  # gender left blank: taken from the ID number
    result = run(cast, csv_bytes(CODES, rows))
    assert result.ok, result.errors
    assert sorted(Member.objects.values_list("joined_on", flat=True)) == [
        dt.date(2024, 1, 5),
        dt.date(2024, 2, 6),
        dt.date(2024, 3, 7),
    ]
    assert Member.objects.get(name="会员p0").gender == ("M" if int(rows[0][1][16]) % 2 else "F")


def test_only_required_columns(cast):
    rows = [[r[0], r[1], r[4], r[6]] for r in people(2)]
    result = run(cast, csv_bytes(["姓名", "身份证号", "群体", "入会日期"], rows))
    assert result.ok, result.errors
    assert set(Member.objects.values_list("phone", flat=True)) == {""}


def test_blank_lines_are_skipped_but_row_numbers_still_match_the_sheet(cast):
    rows = people(3)
    rows[2][1] = rows[2][1][:17] + ("0" if rows[2][1][17] != "0" else "1")
    content = csv_bytes(CODES, [rows[0], ["", "", "", "", "", "", ""], rows[1], rows[2]])
    result = run(cast, content)
    assert [(e["row"], e["column"]) for e in result.errors] == [(5, "id_number")]


def test_empty_rows_above_the_header_are_skipped_and_rows_keep_their_sheet_numbers(cast):
    rows = people(3)
    rows[1][4] = "宇航员"
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([])
    sheet.append([])
    sheet.cell(row=2, column=3).value = " "  # a stray blank cell is still an empty row
    sheet.append(LABELS)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    result = run(cast, out.getvalue(), filename="roster.xlsx")
    assert [(e["row"], e["column"]) for e in result.errors] == [(5, "群体")]  # header in row 3, second person row 5
    rows[1][4] = "courier"
    assert run(cast, csv_bytes(CODES, rows).replace(b"name,", b"\r\n,,\r\nname,", 1)).as_dict()["created"] == 3


# ---------------------------------------------------------------- bad rows: all or nothing


def test_one_bad_checksum_refuses_the_whole_file(cast):
    rows = people(4)
    good = rows[2][1]
    rows[2][1] = good[:17] + ("0" if good[17] != "0" else "1")
    result = run(cast, csv_bytes(LABELS, rows))

    assert len(result.errors) == 1
    [error] = result.errors
    assert error["row"] == 4  # header is row 1, so the third person sits in row 4
    assert error["column"] == "身份证号"  # the header as written in the file
    assert "校验位" in error["message"]
    assert_nothing_written(result)


def test_errors_of_several_rows_come_back_sorted_with_the_file_headers(cast):
    rows = people(4)
    rows[3][3] = "12345"  # phone
    rows[1][4] = "宇航员"  # unknown group
    rows[1][0] = ""  # no name
    result = run(cast, csv_bytes(CODES, rows))
    assert [(e["row"], e["column"]) for e in result.errors] == [(3, "group"), (3, "name"), (5, "phone")]
    assert "宇航员" in result.errors[0]["message"]
    assert_nothing_written(result)


def test_unknown_group_code(cast):
    rows = people(2)
    rows[1][4] = "astronaut"
    result = run(cast, csv_bytes(LABELS, rows))
    assert [(e["row"], e["column"]) for e in result.errors] == [(3, "群体")]
    assert "astronaut" in result.errors[0]["message"]
    assert_nothing_written(result)


def test_gender_contradicting_the_id_number(cast):
    rows = people(2)
    rows[0][2] = "女" if rows[0][2] == "男" else "男"
    result = run(cast, csv_bytes(LABELS, rows))
    assert [(e["row"], e["column"]) for e in result.errors] == [(2, "性别")]
    assert_nothing_written(result)


def test_unreadable_date_and_gender(cast):
    rows = people(3)
    rows[0][6] = "去年春天"
    rows[1][2] = "未知"
    result = run(cast, csv_bytes(LABELS, rows))
    assert [(e["row"], e["column"]) for e in result.errors] == [(2, "入会日期"), (3, "性别")]
    assert_nothing_written(result)


def test_duplicate_id_number_within_the_file_points_at_the_first_row(cast):
    rows = people(3)
    rows.append([*rows[0]])
    rows[3][0] = "另一个名字"
    result = run(cast, csv_bytes(CODES, rows))
    assert [(e["row"], e["column"]) for e in result.errors] == [(5, "id_number")]
    assert "第 2 行" in result.errors[0]["message"]
    assert_nothing_written(result)


@pytest.mark.parametrize(
    ("who", "other", "named"),
    [("xihu", "union_xihu_other", True), ("officer", "union_xihu_other", False), ("xihu", "union_yinzhou", False)],
)
def test_person_active_in_another_union_is_refused_naming_it_only_to_who_can_see_it(cast, who, other, named):
    rows = people(3)
    other = getattr(cast, other)
    services.member_add(
        union=other,
        data={"name": "x", "id_number": rows[1][1], "group": "courier", "joined_on": dt.date(2024, 1, 1)},
        by=cast.xihu if other.county_id == "330106" else cast.yinzhou,
    )
    result = run(cast, csv_bytes(CODES, rows), by=getattr(cast, who))
    assert [(e["row"], e["column"]) for e in result.errors] == [(3, "id_number")]
    message = result.errors[0]["message"]
    assert (other.name in message) == named
    if not named:
        assert "省内其他工会" in message and "县（市、区）总工会" in message
    assert Member.objects.count() == 1
    assert not import_events()


def test_person_who_left_another_union_may_be_imported(cast):
    rows = people(2)
    elsewhere = services.member_add(
        union=cast.union_yinzhou,
        data={"name": "x", "id_number": rows[1][1], "group": "courier", "joined_on": dt.date(2023, 1, 1)},
        by=cast.yinzhou,
    )
    services.member_update(member=elsewhere, data={"left_on": dt.date(2023, 12, 31)}, by=cast.yinzhou)
    result = run(cast, csv_bytes(CODES, rows))
    assert result.as_dict() == {"created": 2, "updated": 0, "errors": []}


def test_row_longer_than_the_header(cast):
    rows = people(2)
    rows[1].append("多余")
    result = run(cast, csv_bytes(CODES, rows))
    assert [e["row"] for e in result.errors] == [3]
    assert_nothing_written(result)


# ---------------------------------------------------------------- bad headers and bad files


def test_unknown_header(cast):
    result = run(cast, csv_bytes([*CODES, "备注"], [[*r, "x"] for r in people(1)]))
    assert [(e["row"], e["column"]) for e in result.errors] == [(1, "备注")]
    assert "未知的列" in result.errors[0]["message"]
    assert_nothing_written(result)


def test_missing_required_column(cast):
    rows = [r[:6] for r in people(2)]  # no joined_on
    result = run(cast, csv_bytes(LABELS[:6], rows))
    assert [e["row"] for e in result.errors] == [1]
    assert "入会日期" in result.errors[0]["message"]
    assert "缺少" in result.errors[0]["message"]
    assert_nothing_written(result)


def test_duplicate_header(cast):
    result = run(cast, csv_bytes([*CODES, "手机号"], [[*r, r[3]] for r in people(1)]))
    assert [(e["row"], e["column"]) for e in result.errors] == [(1, "手机号")]
    assert_nothing_written(result)


def test_header_only_file_has_no_data(cast):
    result = run(cast, csv_bytes(LABELS, []))
    assert [e["row"] for e in result.errors] == [1]
    assert_nothing_written(result)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("random.csv", random.Random(7).randbytes(3000)),
        ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(200)),
        ("signature.png", b"\x89PNG\r\n\x1a\n"),
        ("doc.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nstream\n\x01\x02\x03"),
        ("roster.xlsx", b"PK\x03\x04" + random.Random(8).randbytes(500)),  # a damaged zip
        ("roster.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)),  # legacy Excel
        ("empty.csv", b""),
        ("blank.csv", b"  \r\n\r\n"),
        ("bom-only.csv", b"\xef\xbb\xbf"),
        ("utf16.csv", "姓名,身份证号\n".encode("utf-16")),
    ],
)
def test_files_that_are_not_a_roster_are_refused_with_a_message(cast, name, content):
    result = run(cast, content, filename=name)
    assert result.errors
    assert result.errors[0]["row"] == 1
    assert result.errors[0]["message"]
    assert_nothing_written(result)


@pytest.mark.parametrize(
    "content", [b"\x89PNG\r\n\x1a\n", bytes(b for b in random.Random(9).randbytes(3000) if b), "a\tb".encode("utf-16")]
)
def test_binary_files_are_called_not_a_spreadsheet(content):
    [error] = roster.parse_roster("upload.csv", content).errors
    assert error["column"] == ""
    assert "不是表格" in error["message"]


def test_legacy_xls_is_named_as_such(cast):
    result = run(cast, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), filename="名册.xls")
    assert ".xls" in result.errors[0]["message"]
    assert ".xlsx" in result.errors[0]["message"]


def test_empty_file_says_so(cast):
    result = run(cast, b"")
    assert "空" in result.errors[0]["message"]


def test_file_over_the_size_limit_is_refused_before_reading(cast):
    content = csv_bytes(CODES, people(10))
    with override_settings(UPLOAD_MAX_BYTES=len(content) - 1):
        result = run(cast, content)
    assert len(result.errors) == 1
    assert "超过" in result.errors[0]["message"]
    assert_nothing_written(result)
    with override_settings(UPLOAD_MAX_BYTES=len(content)):
        assert run(cast, content).ok


def test_size_limit_message_shows_a_sensible_size():
    with override_settings(UPLOAD_MAX_BYTES=10 * 1024 * 1024):
        assert "10 MB" in roster.parse_roster("a.csv", b"x" * (10 * 1024 * 1024 + 1)).errors[0]["message"]
    with override_settings(UPLOAD_MAX_BYTES=2000):
        message = roster.parse_roster("a.csv", b"x" * 2001).errors[0]["message"]
    assert "0 MB" not in message


def test_malformed_csv_with_an_unbalanced_quote(cast):
    content = csv_bytes(CODES, people(2)) + '张三,"330106199003071236,男,13800138000,courier,美团,2024-03-01\n'.encode()
    result = run(cast, content)
    assert [e["row"] for e in result.errors] == [1]
    assert "引号" in result.errors[0]["message"]
    assert_nothing_written(result)


# ---------------------------------------------------------------- re-import (upsert by ID number)


def test_reimporting_the_same_file_changes_nothing(cast):
    content = csv_bytes(LABELS, people(4))
    run(cast, content)
    snapshot = list(Member.objects.order_by("pk").values())
    events_before = AuditEvent.objects.count()

    result = run(cast, content)
    assert result.as_dict() == {"created": 0, "updated": 0, "errors": []}
    assert list(Member.objects.order_by("pk").values()) == snapshot
    assert AuditEvent.objects.count() == events_before


def test_reimport_as_xlsx_of_the_same_people_changes_nothing(cast):
    rows = people(3)
    run(cast, csv_bytes(CODES, rows))
    for row in rows:
        row[3] = int(row[3])
        row[6] = dt.datetime(2024, 3, 1)
    result = run(cast, xlsx_bytes(LABELS, rows), filename="roster.xlsx")
    assert result.as_dict() == {"created": 0, "updated": 0, "errors": []}


def test_reimport_with_one_changed_phone_updates_that_member(cast):
    rows = people(4)
    run(cast, csv_bytes(LABELS, rows))
    untouched = Member.objects.get(name="会员p0").updated_at
    rows[2][3] = "13999990000"
    rows.append(people(1, prefix="new")[0])

    result = run(cast, csv_bytes(LABELS, rows))
    assert result.as_dict() == {"created": 1, "updated": 1, "errors": []}
    assert Member.objects.get(name="会员p2").phone == "13999990000"
    assert Member.objects.get(name="会员p0").updated_at == untouched
    assert Member.objects.filter(union=cast.union_xihu).count() == 5
    last = import_events()[0]  # newest first
    assert (last.after["created"], last.after["updated"]) == (1, 1)
    assert "13999990000" not in json.dumps(last.after, ensure_ascii=False)


def test_reimport_does_not_bring_back_a_member_who_left(cast):
    rows = people(2)
    run(cast, csv_bytes(CODES, rows))
    leaver = Member.objects.get(name="会员p0")
    services.member_update(member=leaver, data={"left_on": dt.date(2024, 12, 31)}, by=cast.officer)

    result = run(cast, csv_bytes(CODES, rows))
    assert result.as_dict() == {"created": 0, "updated": 0, "errors": []}
    assert Member.objects.get(pk=leaver.pk).left_on == dt.date(2024, 12, 31)


def test_rows_in_another_union_of_the_same_person_after_leaving_do_not_collide(cast):
    # The same file imported into a second union while the people are active in the first: refused.
    content = csv_bytes(CODES, people(2))
    run(cast, content)
    result = run(cast, content, union=cast.union_xihu_other, by=cast.xihu)
    assert [e["row"] for e in result.errors] == [2, 3]
    assert all(cast.union_xihu.name in e["message"] for e in result.errors)
    assert Member.objects.filter(union=cast.union_xihu_other).count() == 0


# ---------------------------------------------------------------- who may import


def test_import_outside_the_scope_is_404(cast):
    from django.http import Http404

    with pytest.raises(Http404):
        run(cast, csv_bytes(CODES, people(1)), union=cast.union_yuhang, by=cast.xihu)


def test_import_by_city_staff_is_403(cast):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        run(cast, csv_bytes(CODES, people(1)), by=cast.hangzhou)
    assert not Member.objects.exists()


# ---------------------------------------------------------------- templates


def test_csv_template_parses_back_and_imports(cast):
    parsed = roster.parse_roster("template.csv", roster.template_csv())
    assert parsed.errors == []
    [row] = parsed.rows
    assert row.number == 2
    assert row.values == {
        "name": "张三",
        "id_number": "11010519491231002X",
        "gender": "F",
        "phone": "13800138000",
        "group": "food_delivery",
        "platform": "美团",
        "joined_on": dt.date(2024, 1, 15),
    }
    assert run(cast, roster.template_csv(), filename="template.csv").as_dict() == {
        "created": 1,
        "updated": 0,
        "errors": [],
    }


def test_xlsx_template_parses_back(cast):
    parsed = roster.parse_roster("template.xlsx", roster.template_xlsx())
    assert parsed.errors == []
    [row] = parsed.rows
    assert row.values["id_number"] == "11010519491231002X"
    assert row.values["phone"] == "13800138000"
    assert row.values["joined_on"] == dt.date(2024, 1, 15)
    assert row.values["group"] == "food_delivery"
    assert row.columns["id_number"] == "身份证号"


# ---------------------------------------------------------------- the union's member count


def count_of(union) -> int:
    return Union.objects.get(pk=union.pk).member_count


def test_member_count_follows_every_roster_change(cast):
    """The count on the union (what lists, totals and the eligibility rule read) is always the number of
    active members: after an import, a re-import, a refused file, a departure, a return and a new member."""
    assert count_of(cast.union_xihu) == 0
    rows = people(5)
    assert run(cast, csv_bytes(CODES, rows)).ok
    assert count_of(cast.union_xihu) == 5
    assert run(cast, csv_bytes(CODES, rows)).ok  # the same file again changes nothing
    assert count_of(cast.union_xihu) == 5
    bad = [*people(3, prefix="q"), [*rows[0][:1], "330106199001011230", *rows[0][2:]]]
    assert not run(cast, csv_bytes(CODES, bad)).ok
    assert count_of(cast.union_xihu) == 5

    member = Member.objects.filter(union=cast.union_xihu).order_by("pk").first()
    services.member_update(member=member, data={"left_on": dt.date(2025, 1, 31)}, by=cast.officer)
    assert count_of(cast.union_xihu) == 4
    services.member_update(member=member, data={"left_on": None}, by=cast.officer)
    assert count_of(cast.union_xihu) == 5
    services.member_add(
        union=cast.union_xihu,
        data={"name": "新会员", "id_number": id_number("new"), "group": "courier", "joined_on": dt.date(2025, 3, 1)},
        by=cast.xihu,
    )
    assert count_of(cast.union_xihu) == 6
    assert count_of(cast.union_xihu) == Member.objects.active().filter(union=cast.union_xihu).count()
    assert count_of(cast.union_yuhang) == 0  # other unions untouched


# ---------------------------------------------------------------- files that claim more than they hold


def test_a_genuine_workbook_declaring_the_whole_sheet_imports_its_rows(cast):
    content = declaring(xlsx_bytes(LABELS, people(3)), "A1:XFD1048576")
    result = run(cast, content, filename="roster.xlsx")
    assert result.as_dict() == {"created": 3, "updated": 0, "errors": []}


def test_the_probes_workbook_is_answered_in_bounded_memory_with_the_rows_it_holds(cast):
    content = crafted(8000)
    tracemalloc.start()
    try:
        result = run(cast, content, filename="crafted.xlsx")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < BUDGET, f"the import took {peak / MB:.0f} MB"
    assert {e["row"] for e in result.errors} == {8000}  # the one row it holds lacks an ID number
    assert_nothing_written(result)


def test_more_rows_than_the_cap_are_refused_naming_the_first_row_past_it(cast, settings):
    settings.IMPORT_MAX_ROWS = 3
    assert run(cast, csv_bytes(CODES, people(3, "cap"))).created == 3
    result = run(cast, csv_bytes(CODES, people(4)))
    assert result.errors == [{"row": 5, "column": "", "message": "第 5 行：表格超过 3 行数据，请拆分后分批导入。"}]
    assert (result.created, result.updated, Member.objects.count(), len(import_events())) == (0, 0, 3, 1)


# ---------------------------------------------------------------- what comes back never shows a whole number


def test_errors_echo_headers_and_cells_with_their_numbers_masked(cast):
    header = ["姓名", "身份证号", "13912345678", "群体", "入会日期"]
    result = run(cast, csv_bytes(header, [["张三", id_number("echo-1"), "x", "外卖配送员", "2024-03-01"]]))
    assert result.errors == [
        {"row": 1, "column": "139****5678", "message": result.errors[0]["message"]},
    ]
    assert result.errors[0]["message"].startswith("未知的列「139****5678」")
    number = id_number("echo-2")
    result = run(cast, csv_bytes(CODES, [["张三", id_number("echo-3"), "", "", number, "", "2024-03-01"]]))
    text = json.dumps(result.errors, ensure_ascii=False)
    assert number not in text and f"未知的群体「{number[:6]}********{number[-4:]}」" in text


def test_the_audit_keeps_the_file_name_masked(cast):
    run(cast, csv_bytes(CODES, people(1)), filename="名单330106199003071236-13912345678.csv")
    [event] = import_events()
    assert event.after["file"] == "名单330106********1236-139****5678.csv"


def test_the_import_page_and_api_refuse_a_reader_before_reading_the_file(client, api, cast, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the file was read before the role was checked")

    monkeypatch.setattr(roster, "read_table", refuse)
    content = csv_bytes(CODES, people(1))
    for user in (cast.hangzhou, cast.auditor):
        response = api.as_user(user).post(
            f"/api/v1/unions/{cast.union_xihu.pk}/members/import/",
            {"file": SimpleUploadedFile("r.csv", content)},
            format="multipart",
        )
        assert response.status_code == 403
        client.force_login(user)
        page = client.post(
            f"/unions/{cast.union_xihu.pk}/members/import/", {"file": SimpleUploadedFile("r.csv", content)}
        )
        assert page.status_code == 302
    assert not Member.objects.exists()
