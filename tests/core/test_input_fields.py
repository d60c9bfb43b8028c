"""Every number, amount and date a client or a page can send is read by one of the project's strict fields,
with bounds that fit the column it ends up in.

The test walks every serializer and every form class of the project (all of them, not a list: a new one is
walked too) and checks each writable integer, decimal, money and date field:

- it is one of ``unionfunds.core.fields`` (API) or ``unionfunds.core.forms`` (pages), which read ASCII
  digits only and refuse what Python reads as a number anyway (``１２３``, ``1_000``, floats for money);
- an integer has a ``min_value`` and a ``max_value`` inside the range of its column on PostgreSQL (a city
  quota of 10**20 reached the database and overflowed it: a 500); a decimal has digits that fit its column;
  an amount that lands in a money column is a ``MoneyField``;
- ``COLUMNS`` says which column each field's value is written to (or compared with). A field missing from
  it fails the test: whoever adds a number or a date to the API or a page says where it goes, and the
  test holds its bounds to that column.
"""

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django import forms as django_forms
from django.apps import apps
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import DateField as ModelDateField
from django.db.models import DecimalField as ModelDecimalField
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers

from unionfunds.core import fields as api_fields
from unionfunds.core import forms as page_fields
from unionfunds.core.dates import EARLIEST, LATEST

OURS = ("members.", "grants.", "evaluation.", "unionfunds.")
INT32 = (-(2**31), 2**31 - 1)

# "Owner.field" → "app.Model.field" the value is stored in (or compared with), or None when it is not stored
# (then an integer must fit the narrowest integer column, 32 bits). ``[]`` is the child of a list or dict.
COLUMNS = {
    # evaluation API
    "AdjustmentSerializer.score": "evaluation.SelfAssessment.score_utilization",
    "RoundSerializer.program": "evaluation.EvaluationRound.program",
    "RoundSerializer.coverage_target": "evaluation.EvaluationRound.coverage_target",
    "RoundSerializer.min_responses": "evaluation.EvaluationRound.min_responses",
    "WeightsSerializer.utilization": "evaluation.EvaluationRound.weight_utilization",
    "WeightsSerializer.coverage": "evaluation.EvaluationRound.weight_coverage",
    "WeightsSerializer.satisfaction": "evaluation.EvaluationRound.weight_satisfaction",
    "SpotCheckRequestSerializer.count": "evaluation.SpotCheckDraw.count",
    "SpotCheckRequestSerializer.ratio": None,  # turned into a count
    "SpotCheckRequestSerializer.seed": "evaluation.SpotCheckDraw.seed",
    "SurveyEntrySerializer.union": "evaluation.SurveyResponse.union",
    "VerifiedScoresSerializer.utilization": "evaluation.SpotCheck.verified_utilization",
    "VerifiedScoresSerializer.coverage": "evaluation.SpotCheck.verified_coverage",
    "VerifiedScoresSerializer.satisfaction": "evaluation.SpotCheck.verified_satisfaction",
    "ReportRequestSerializer.round": "evaluation.ReportJob.round",
    # grants API
    "DisbursementSerializer.amount": "grants.Disbursement.amount",
    "DisbursementSerializer.paid_on": "grants.Disbursement.paid_on",
    "ExpenditureSerializer.spent_on": "grants.Expenditure.spent_on",
    "ExpenditureSerializer.amount": "grants.Expenditure.amount",
    "ExpenditureSerializer.beneficiaries": "grants.Expenditure.beneficiaries",
    "ApplicationSerializer.program": "grants.Application.program",
    "ApplicationSerializer.union": "grants.Application.union",
    "ApplicationSerializer.requested_amount": "grants.Application.requested_amount",
    "ApplicationUpdateSerializer.requested_amount": "grants.Application.requested_amount",
    "BudgetLineSerializer.amount": "grants.BudgetLine.amount",
    "ApproveSerializer.approved_amount": "grants.Application.approved_amount",
    "FundingSourceSerializer.amount": "grants.ProgramFunding.amount",
    "ProgramSerializer.year": "grants.Program.year",
    "ProgramSerializer.budget_total": "grants.Program.budget_total",
    "ProgramSerializer.target_count": "grants.Program.target_count",
    "ProgramSerializer.max_grant": "grants.Program.max_grant",
    "ProgramSerializer.min_members": "grants.Program.min_members",
    "ProgramSerializer.min_committee": "grants.Program.min_committee",
    "ProgramSerializer.opens_on": "grants.Program.opens_on",
    "ProgramSerializer.closes_on": "grants.Program.closes_on",
    "ProgramSerializer.city_quotas[]": "grants.CityQuota.count",
    # members API
    "UnionSerializer.chair_elected_on": "members.Union.chair_elected_on",
    "UnionSerializer.founded_on": "members.Union.founded_on",
    "UnionSerializer.committee_size": "members.Union.committee_size",
    "MemberSerializer.joined_on": "members.Member.joined_on",
    "MemberSerializer.left_on": "members.Member.left_on",
    "MemberUpdateSerializer.joined_on": "members.Member.joined_on",
    "MemberUpdateSerializer.left_on": "members.Member.left_on",
    # evaluation pages
    "DrawForm.count": "evaluation.SpotCheckDraw.count",
    "DrawForm.ratio": None,
    "DrawForm.seed": "evaluation.SpotCheckDraw.seed",
    "PaperForm.very_satisfied": None,  # how many answers of that level to record
    "PaperForm.satisfied": None,
    "PaperForm.neutral": None,
    "PaperForm.dissatisfied": None,
    "PaperForm.very_dissatisfied": None,
    "RoundForm.coverage_target": "evaluation.EvaluationRound.coverage_target",
    "RoundForm.min_responses": "evaluation.EvaluationRound.min_responses",
    "RoundForm.weight_satisfaction": "evaluation.EvaluationRound.weight_satisfaction",
    "RoundForm.weight_utilization": "evaluation.EvaluationRound.weight_utilization",
    "RoundForm.weight_coverage": "evaluation.EvaluationRound.weight_coverage",
    "VerifyForm.utilization": "evaluation.SpotCheck.verified_utilization",
    "VerifyForm.coverage": "evaluation.SpotCheck.verified_coverage",
    "VerifyForm.satisfaction": "evaluation.SpotCheck.verified_satisfaction",
    # grants pages
    "ActionForm.approved_amount": "grants.Application.approved_amount",
    "AllocationFilterForm.min_amount": "grants.Allocation.amount",
    "AllocationFilterForm.max_amount": "grants.Allocation.amount",
    "ApplicationForm.requested_amount": "grants.Application.requested_amount",
    "DisbursementForm.amount": "grants.Disbursement.amount",
    "DisbursementForm.paid_on": "grants.Disbursement.paid_on",
    "ExpenditureForm.spent_on": "grants.Expenditure.spent_on",
    "ExpenditureForm.amount": "grants.Expenditure.amount",
    "ExpenditureForm.beneficiaries": "grants.Expenditure.beneficiaries",
    "ProgramForm.year": "grants.Program.year",
    "ProgramForm.budget_total": "grants.Program.budget_total",
    "ProgramForm.fiscal": "grants.ProgramFunding.amount",
    "ProgramForm.union": "grants.ProgramFunding.amount",
    "ProgramForm.other": "grants.ProgramFunding.amount",
    "ProgramForm.target_count": "grants.Program.target_count",
    "ProgramForm.max_grant": "grants.Program.max_grant",
    "ProgramForm.opens_on": "grants.Program.opens_on",
    "ProgramForm.closes_on": "grants.Program.closes_on",
    "ProgramForm.min_members": "grants.Program.min_members",
    "ProgramForm.min_committee": "grants.Program.min_committee",
    # members pages
    "MemberForm.joined_on": "members.Member.joined_on",
    "MemberLeaveForm.left_on": "members.Member.left_on",
    "UnionForm.chair_elected_on": "members.Union.chair_elected_on",
    "UnionForm.committee_size": "members.Union.committee_size",
    "UnionForm.founded_on": "members.Union.founded_on",
}


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _ours(base) -> list[type]:
    found = {cls for cls in _subclasses(base) if cls.__module__.startswith(OURS)}
    return sorted(found, key=lambda cls: (cls.__module__, cls.__name__))


def _request_components() -> set[str]:
    """The request bodies of the OpenAPI schema (building it imports every view, serializer and form)."""
    schema = json.dumps(SchemaGenerator().get_schema(request=None, public=True))
    return set(re.findall(r'"#/components/schemas/(\w+Request)"', schema))


def _serializer_inputs():
    requests = _request_components()
    for cls in _ours(serializers.Serializer):
        name = cls.__name__.removesuffix("Serializer")
        if not {f"{name}Request", f"Patched{name}Request"} & requests:
            continue  # never a request body: what the API answers
        for name, field in cls().fields.items():
            if field.read_only:
                continue
            yield f"{cls.__name__}.{name}", field
            child = getattr(field, "child", None)
            if child is not None and not isinstance(child, serializers.BaseSerializer):
                yield f"{cls.__name__}.{name}[]", child


def _form_inputs():
    from evaluation.forms import PaperForm  # adds one count field per answer level in __init__

    for cls in _ours(django_forms.BaseForm):
        fields = PaperForm(unions=[]).fields if cls is PaperForm else cls.base_fields
        for name, field in fields.items():
            yield f"{cls.__name__}.{name}", field


NUMBERS_AND_DATES = (
    serializers.IntegerField,
    serializers.DecimalField,
    serializers.FloatField,
    serializers.DateField,
    serializers.DateTimeField,
    api_fields.MoneyField,
    django_forms.IntegerField,
    django_forms.DecimalField,
    django_forms.FloatField,
    django_forms.DateField,
    django_forms.DateTimeField,
)
INPUTS = sorted(
    ((key, field) for key, field in [*_serializer_inputs(), *_form_inputs()] if isinstance(field, NUMBERS_AND_DATES)),
    key=lambda item: item[0],
)


def column(key: str):
    label = COLUMNS[key]
    if label is None:
        return None
    app, model, name = label.split(".")
    return apps.get_model(app, model)._meta.get_field(name)


def integer_range(model_field) -> tuple[int, int]:
    if model_field is None:
        return INT32
    target = getattr(model_field, "target_field", model_field)  # a foreign key holds its target's id
    return BaseDatabaseOperations.integer_field_ranges[target.get_internal_type()]


def test_the_walk_finds_the_known_inputs():
    keys = {key for key, _field in INPUTS}
    assert {"ProgramSerializer.city_quotas[]", "ExpenditureSerializer.beneficiaries", "ProgramForm.fiscal"} <= keys
    assert {"PaperForm.very_satisfied", "MemberLeaveForm.left_on", "DrawForm.seed"} <= keys


def test_every_number_and_date_input_says_which_column_it_goes_to():
    keys = {key for key, _field in INPUTS}
    assert sorted(keys - set(COLUMNS)) == [], "add these to COLUMNS: the column each value is stored in"
    assert sorted(set(COLUMNS) - keys) == [], "these are no longer inputs: remove them from COLUMNS"


@pytest.mark.parametrize(("key", "field"), INPUTS, ids=[key for key, _field in INPUTS])
def test_every_number_and_date_input_is_strict_and_fits_its_column(key, field):
    model_field = column(key)
    api = isinstance(field, serializers.Field)
    if isinstance(field, api_fields.MoneyField | page_fields.MoneyField):
        assert isinstance(model_field, ModelDecimalField), key
        assert (model_field.max_digits, model_field.decimal_places) == (14, 2), f"{key} is not money"
    elif isinstance(field, serializers.DecimalField | django_forms.DecimalField):
        assert isinstance(field, api_fields.DecimalField if api else page_fields.DecimalField), key
        assert field.max_digits is not None and field.decimal_places is not None, key
        if model_field is not None:
            assert (model_field.max_digits, model_field.decimal_places) != (14, 2), f"{key} is money: MoneyField"
            assert field.decimal_places <= model_field.decimal_places, key
            assert field.max_digits - field.decimal_places <= model_field.max_digits - model_field.decimal_places, key
    elif isinstance(field, serializers.IntegerField | django_forms.IntegerField):  # (Django's decimal is one)
        assert isinstance(field, api_fields.IntegerField if api else page_fields.IntegerField), key
        low, high = integer_range(model_field)
        assert field.min_value is not None and field.max_value is not None, f"{key} needs both bounds"
        assert low <= field.min_value <= field.max_value <= high, (key, field.min_value, field.max_value, low, high)
    elif isinstance(field, serializers.DateField | django_forms.DateField):
        assert isinstance(field, api_fields.DateField if api else page_fields.DateField), key
        assert isinstance(model_field, ModelDateField), key
    else:
        pytest.fail(f"{key}: {type(field).__name__} is not an input this project takes (floats, date-times)")


# ---------------------------------------------------------------- how the fields read what they are sent

NOT_ASCII_NUMBERS = ["１２", "١٢", "1_2", "1e1", "+12", "12.", "NaN", "Infinity", " ", "0x10", "²"]


@pytest.mark.parametrize("text", NOT_ASCII_NUMBERS)
def test_every_numeric_field_refuses_what_is_not_ascii_digits(text):
    checks = [
        api_fields.IntegerField(min_value=0, max_value=100),
        api_fields.DecimalField(max_digits=5, decimal_places=2),
        api_fields.MoneyField(),
    ]
    for field in checks:
        with pytest.raises(serializers.ValidationError):
            field.run_validation(text)
    for field in (
        page_fields.IntegerField(min_value=0, max_value=100),
        page_fields.DecimalField(max_digits=5, decimal_places=2),
        page_fields.MoneyField(),
    ):
        if text.strip():
            with pytest.raises(django_forms.ValidationError):
                field.clean(text)


def test_the_fields_read_ascii_digits():
    assert api_fields.IntegerField(min_value=0, max_value=100).run_validation("12") == 12
    assert api_fields.IntegerField(min_value=0, max_value=100).run_validation(12) == 12
    assert api_fields.DecimalField(max_digits=5, decimal_places=3).run_validation("0.25") == Decimal("0.25")
    assert api_fields.DecimalField(max_digits=5, decimal_places=3).run_validation(0.25) == Decimal("0.25")
    assert api_fields.MoneyField().run_validation("60000") == Decimal("60000.00")
    assert page_fields.IntegerField(min_value=0, max_value=100).clean("12") == 12
    assert page_fields.MoneyField().clean("60000.5") == Decimal("60000.50")
    assert page_fields.DecimalField(max_digits=5, decimal_places=2).clean("99.5") == Decimal("99.5")


@pytest.mark.parametrize(
    ("value", "words"), [(60000.0, "浮点数"), (0.1, "浮点数"), (60000, "字符串"), (True, "字符串"), ([], "字符串")]
)
def test_the_api_money_field_takes_strings_only(value, words):
    with pytest.raises(serializers.ValidationError) as refused:
        api_fields.MoneyField().run_validation(value)
    assert words in str(refused.value.detail)


def test_an_optional_amount_may_be_left_empty():
    assert api_fields.MoneyField(required=False, allow_null=True).run_validation("") is None
    assert api_fields.MoneyField(required=False, allow_null=True).run_validation(None) is None
    assert page_fields.MoneyField(required=False).clean("") is None


def test_api_integers_need_their_bounds():
    with pytest.raises(TypeError):
        api_fields.IntegerField(min_value=0)
    with pytest.raises(TypeError):
        page_fields.IntegerField(max_value=5)


@pytest.mark.parametrize("text", ["0001-01-01", "1899-12-31", "2101-01-01", "9999-12-31", "２０２６-０１-０１"])
def test_date_fields_refuse_years_no_one_means(text):
    with pytest.raises(serializers.ValidationError):
        api_fields.DateField().run_validation(text)
    with pytest.raises(django_forms.ValidationError):
        page_fields.DateField().clean(text)


def test_date_fields_take_the_whole_range():
    for day in (EARLIEST, LATEST, dt.date(2026, 2, 28)):
        assert api_fields.DateField().run_validation(day.isoformat()) == day
        assert page_fields.DateField().clean(day.isoformat()) == day
    widget = page_fields.DateField().widget
    assert (widget.attrs["min"], widget.attrs["max"]) == (EARLIEST.isoformat(), LATEST.isoformat())


@pytest.mark.parametrize("text", ["%d", "%s%s", "1%", "%(x)s"])
def test_a_refusal_quoting_what_was_typed_survives_a_percent_sign(text, cast, api):
    with pytest.raises(django_forms.ValidationError) as refused:
        page_fields.MoneyField().clean(text)
    assert text in refused.value.messages[0]
    response = api.as_user(cast.province).get("/api/v1/allocations/", {"min_amount": text})
    assert response.status_code == 400 and text in response.json()["min_amount"][0]
