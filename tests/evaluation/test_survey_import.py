"""Paper answers imported from a spreadsheet (issue 5, item 2)."""

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from openpyxl import Workbook

from evaluation import services
from evaluation.models import SurveyResponse
from tests.grants.conftest import add_members, make_application, make_program


@pytest.fixture
def funded_round(cast):
    add_members(cast.union_xihu, 160)
    program = make_program(cast.province, name="问卷导入测试项目")
    make_application(program, cast.union_xihu, until="approved")
    return services.round_create(program=program, by=cast.province)


def as_csv(rows) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()


def test_an_xlsx_of_answers_is_imported_with_labels_or_codes(funded_round, cast):
    book = Workbook()
    sheet = book.active
    sheet.append(["统一社会信用代码", "满意度", "意见建议"])
    sheet.append([cast.union_xihu.credit_code, "非常满意", "培训很实用"])
    sheet.append([cast.union_xihu.credit_code.lower(), "satisfied", ""])
    out = io.BytesIO()
    book.save(out)
    created = services.survey_import(round_=funded_round, filename="a.xlsx", content=out.getvalue(), by=cast.xihu)
    assert len(created) == 2
    assert sorted(SurveyResponse.objects.values_list("score", flat=True)) == [80, 100]
    assert SurveyResponse.objects.filter(source="import", comment="培训很实用").exists()


def test_a_bad_row_names_the_spreadsheet_row_and_nothing_is_imported(funded_round, cast):
    content = as_csv(
        [
            ["统一社会信用代码", "满意度"],
            [cast.union_xihu.credit_code, "满意"],
            [cast.union_xihu.credit_code, "还行"],
            [cast.union_yinzhou.credit_code, "满意"],  # another county's union
        ]
    )
    with pytest.raises(ValidationError) as refused:
        services.survey_import(round_=funded_round, filename="a.csv", content=content, by=cast.xihu)
    text = " ".join(m for messages in refused.value.message_dict.values() for m in messages)
    assert "第 4 行" in text
    assert not SurveyResponse.objects.exists()

    content = as_csv(
        [["统一社会信用代码", "满意度"], [cast.union_xihu.credit_code, "满意"], [cast.union_xihu.credit_code, "还行"]]
    )
    with pytest.raises(ValidationError) as refused:
        services.survey_import(round_=funded_round, filename="a.csv", content=content, by=cast.xihu)
    text = " ".join(m for messages in refused.value.message_dict.values() for m in messages)
    assert "第 3 行" in text and "还行" in text
    assert not SurveyResponse.objects.exists()


def test_a_file_that_is_not_a_table_or_lacks_columns_is_refused(funded_round, cast):
    with pytest.raises(ValidationError) as refused:
        services.survey_import(
            round_=funded_round, filename="a.png", content=b"\x89PNG\r\n\x1a\n\x00\x00", by=cast.xihu
        )
    assert "file" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.survey_import(
            round_=funded_round, filename="a.csv", content=as_csv([["名称", "满意度"]]), by=cast.xihu
        )
    assert "统一社会信用代码" in refused.value.message_dict["file"][0]


def test_an_import_of_more_than_2000_answers_is_refused_naming_the_file(funded_round, cast):
    def sheet(answers: int) -> bytes:  # trailing blank lines, as spreadsheets save them, are no answers
        rows = [["统一社会信用代码", "满意度"]] + [[cast.union_xihu.credit_code, "满意"]] * answers + [["", ""]] * 5
        return as_csv(rows)

    with pytest.raises(ValidationError) as refused:
        services.survey_import(round_=funded_round, filename="a.csv", content=sheet(2001), by=cast.xihu)
    assert set(refused.value.message_dict) == {"file"} and "2000" in refused.value.message_dict["file"][0]
    assert not SurveyResponse.objects.exists()
    created = services.survey_import(round_=funded_round, filename="a.csv", content=sheet(2000), by=cast.xihu)
    assert len(created) == 2000
