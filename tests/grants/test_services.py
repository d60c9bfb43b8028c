"""The grants services (docs/rules.md): programs, applications, the workflow tables per owner level, the
budget rules at approval and the allocation it creates. Each refusal is checked to change nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from grants import services
from grants.choices import ACTION_LABELS
from grants.choices import ApplicationStatus as S
from grants.eligibility import RULES
from grants.models import Allocation, Application, ApplicationTransition, BudgetLine, Program, ProgramFunding
from grants.workflows import PROVINCIAL
from members.choices import UnionStatus
from members.models import Union
from tests.factories import PDF, add_members, eligible_union, leave, make_application, make_program, program_data
from unionfunds.core import clock
from unionfunds.core.errors import ApplicationError
from unionfunds.core.models import AuditEvent

# The cast's users inside the scope of an application of ``union_xihu``.
IN_SCOPE = ["province", "auditor", "hangzhou", "city_auditor", "xihu", "officer"]


def state_of(application: Application) -> tuple:
    """Everything a refusal must leave as it was."""
    application.refresh_from_db()
    return (
        application.status,
        application.approved_amount,
        application.decided_at,
        ApplicationTransition.objects.filter(application=application).count(),
        Allocation.objects.count(),
        AuditEvent.objects.count(),
    )


# ------------------------------------------------------------------ the provincial workflow table


@pytest.mark.parametrize(
    ("transition", "role"),
    [(t, role) for t in PROVINCIAL.transitions for role in sorted(t.roles)],
    ids=lambda v: v if isinstance(v, str) else f"{v.source}-{v.action}",
)
def test_provincial_transition_by_its_role_succeeds_and_by_every_other_role_is_refused(
    stocked, program, transition, role
):
    cast = stocked
    application = make_application(program, cast.union_xihu, until=transition.source)
    users = cast.users()
    before = state_of(application)
    for name in IN_SCOPE:
        user = users[name]
        if user.role in transition.roles:
            continue
        # A role that takes this action from another state (returns) is told the state forbids it (409);
        # every other role is refused as such (403).
        refusal = ApplicationError if user.role in PROVINCIAL.roles_for(transition.action) else PermissionDenied
        with pytest.raises(refusal):
            services.application_transition(
                application=application, action=transition.action, by=user, comment="意见", approved_amount="50000.00"
            )
        assert state_of(application) == before, name

    actor = next(users[name] for name in IN_SCOPE if users[name].role == role)
    result = services.application_transition(
        application=application, action=transition.action, by=actor, comment="  意见  ", approved_amount="50000.00"
    )

    assert result.status == transition.target
    assert Application.objects.get(pk=application.pk).status == transition.target
    step = ApplicationTransition.objects.filter(application=application).last()
    assert (step.action, step.from_status, step.to_status, step.actor, step.comment) == (
        transition.action,
        transition.source,
        transition.target,
        actor,
        "意见",
    )
    event = AuditEvent.objects.filter(action=f"application.{transition.action}", object_id=str(application.pk)).get()
    assert event.actor == actor
    assert event.object_type == "grants.application"
    assert event.before == {"status": transition.source}
    assert event.after["status"] == transition.target
    assert event.after["comment"] == "意见"
    allocations = Allocation.objects.filter(application=application)
    if transition.action == "approve":
        assert event.after["approved_amount"] == "50000.00"
        assert allocations.get().amount == Decimal("50000.00")
    else:
        assert not allocations.exists()


def test_the_whole_provincial_chain_keeps_its_history(stocked, program):
    application = make_application(program, stocked.union_xihu, until=S.APPROVED, requested="55000.00")
    history = list(application.history.values_list("action", "from_status", "to_status", "actor__username"))
    assert history == [
        ("submit", "draft", "submitted", "t_xihu"),
        ("recommend", "submitted", "recommended", "t_xihu"),
        ("review", "recommended", "reviewed", "t_hangzhou"),
        ("approve", "reviewed", "approved", "t_province"),
    ]
    assert application.approved_amount == Decimal("55000.00")
    assert application.decided_at is not None


@pytest.mark.parametrize(
    ("state", "action", "user"),
    [
        (S.DRAFT, "approve", "province"),
        (S.DRAFT, "reject", "province"),
        (S.DRAFT, "recommend", "xihu"),
        (S.DRAFT, "review", "hangzhou"),
        (S.DRAFT, "return", "xihu"),
        (S.SUBMITTED, "submit", "officer"),
        (S.SUBMITTED, "review", "hangzhou"),
        (S.SUBMITTED, "approve", "province"),
        (S.RECOMMENDED, "recommend", "xihu"),
        (S.RECOMMENDED, "approve", "province"),
        (S.REVIEWED, "review", "hangzhou"),
        (S.REVIEWED, "submit", "xihu"),
        (S.APPROVED, "approve", "province"),
        (S.APPROVED, "return", "province"),
        (S.APPROVED, "reject", "province"),
        (S.REJECTED, "approve", "province"),
        (S.REJECTED, "submit", "officer"),
    ],
)
def test_illegal_transitions_are_refused_with_illegal_transition(stocked, program, state, action, user):
    application = make_application(program, stocked.union_xihu, until=state)
    before = state_of(application)
    with pytest.raises(ApplicationError) as refusal:
        services.application_transition(
            application=application, action=action, by=stocked.users()[user], comment="意见", approved_amount="1.00"
        )
    assert refusal.value.code == "illegal_transition"
    # in words: 「市级已审核」 and 「批准」, not the codes (they come in ``extra`` for machines)
    assert str(S(state).label) in refusal.value.detail and str(ACTION_LABELS[action]) in refusal.value.detail
    assert refusal.value.extra == {"state": state, "action": action}
    assert state_of(application) == before


@pytest.mark.parametrize("user", ["auditor", "city_auditor", "officer"])
def test_a_role_that_can_never_decide_gets_403_not_409_even_on_a_draft(stocked, program, user):
    application = make_application(program, stocked.union_xihu)
    with pytest.raises(PermissionDenied):
        services.application_transition(
            application=application, action="approve", by=stocked.users()[user], approved_amount="1.00"
        )


@pytest.mark.parametrize("user", ["yuhang", "ningbo", "yinzhou"])
def test_out_of_scope_users_cannot_find_the_application(stocked, program, user):
    application = make_application(program, stocked.union_xihu, until=S.SUBMITTED)
    before = state_of(application)
    for action in ("recommend", "return", "review", "approve"):
        with pytest.raises(Http404):
            services.application_transition(
                application=application, action=action, by=stocked.users()[user], comment="x", approved_amount="1"
            )
    assert state_of(application) == before


@pytest.mark.parametrize(
    ("state", "action", "user"),
    [
        (S.SUBMITTED, "return", "xihu"),
        (S.RECOMMENDED, "return", "hangzhou"),
        (S.REVIEWED, "return", "province"),
        (S.REVIEWED, "reject", "province"),
    ],
)
@pytest.mark.parametrize("comment", ["", "   "])
def test_return_and_reject_require_a_comment(stocked, program, state, action, user, comment):
    application = make_application(program, stocked.union_xihu, until=state)
    before = state_of(application)
    with pytest.raises(ValidationError) as refusal:
        services.application_transition(
            application=application, action=action, by=stocked.users()[user], comment=comment
        )
    assert "comment" in refusal.value.message_dict
    assert state_of(application) == before


def test_a_returned_application_can_be_changed_and_submitted_again(stocked, program):
    application = make_application(program, stocked.union_xihu, until=S.REVIEWED, requested="60000.00")
    services.application_transition(application=application, action="return", by=stocked.province, comment="请补充")
    application = services.application_update(
        application=application,
        data={
            "requested_amount": "50000.00",
            "budget_lines": [{"category": "skills", "amount": "50000.00", "description": "技能培训"}],
        },
        by=stocked.officer,
    )
    assert application.status == S.DRAFT
    assert application.requested_amount == Decimal("50000.00")
    application = services.application_transition(application=application, action="submit", by=stocked.officer)
    assert application.status == S.SUBMITTED
    assert [h.action for h in application.history.all()] == ["submit", "recommend", "review", "return", "submit"]


# ------------------------------------------------------------------ eligibility at submit and approval


def test_eligibility_is_rechecked_at_submit(stocked, program):
    union = eligible_union(members=149)
    application = make_application(program, union)
    assert application.eligible is False
    add_members(union, 1)
    application = services.application_transition(application=application, action="submit", by=stocked.xihu)
    assert application.eligible is True
    assert all(c["passed"] for c in application.eligibility_checks)


def test_an_ineligible_application_cannot_be_approved(stocked, program):
    application = make_application(program, stocked.union_xihu, until=S.REVIEWED)
    # After the city's review the union lost a member and was suspended.
    leave(stocked.union_xihu.members.first(), dt.date(2026, 1, 5))
    Union.objects.filter(pk=stocked.union_xihu.pk).update(status=UnionStatus.SUSPENDED)
    before = state_of(application)
    with pytest.raises(ApplicationError) as refusal:
        services.application_transition(
            application=application, action="approve", by=stocked.province, approved_amount="60000.00"
        )
    assert refusal.value.code == "not_eligible"
    # in words for the clerk (the rule codes are for machines, in ``failed``)
    assert "会员人数" in refusal.value.detail and "149" in refusal.value.detail
    assert "已核实" in refusal.value.detail and "min_members" not in refusal.value.detail
    assert {c["rule"] for c in refusal.value.extra["failed"]} == {"min_members", "verified"}
    assert state_of(application) == before
    # Rejecting it is still possible.
    services.application_transition(application=application, action="reject", by=stocked.province, comment="不符合条件")
    assert Application.objects.get(pk=application.pk).status == S.REJECTED


# ------------------------------------------------------------------ budget rules at approval


@pytest.fixture
def small(cast) -> Program:
    """100,000.00 = fiscal 40,000.00 + union 60,000.00, five unions, at most 60,000.00 each."""
    return make_program(
        cast.province,
        name="小额项目",
        budget_total="100000.00",
        funding_sources=[{"source": "fiscal", "amount": "40000.00"}, {"source": "union", "amount": "60000.00"}],
        target_count=5,
        max_grant="60000.00",
    )


def approve(application, by, amount):
    return services.application_transition(application=application, action="approve", by=by, approved_amount=amount)


@pytest.mark.parametrize(
    ("amount", "code", "words"),
    [
        ("0", "amount_not_positive", "大于 0"),
        ("0.00", "amount_not_positive", "大于 0"),
        ("50000.01", "amount_above_requested", "50,000.00"),
        ("60000.00", "amount_above_requested", "60,000.00"),
    ],
)
def test_approved_amount_must_be_positive_and_within_the_request(stocked, small, amount, code, words):
    application = make_application(small, stocked.union_xihu, until=S.REVIEWED, requested="50000.00")
    before = state_of(application)
    with pytest.raises(ApplicationError) as refusal:
        approve(application, stocked.province, amount)
    assert refusal.value.code == code
    assert words in refusal.value.detail
    assert state_of(application) == before


@pytest.mark.parametrize(
    ("amount", "field"),
    [("abc", "approved_amount"), ("1.001", "approved_amount"), ("-5", "approved_amount"), ("", "approved_amount")],
)
def test_approved_amount_that_is_not_money_is_bad_input(stocked, small, amount, field):
    application = make_application(small, stocked.union_xihu, until=S.REVIEWED, requested="50000.00")
    before = state_of(application)
    with pytest.raises(ValidationError) as refusal:
        approve(application, stocked.province, amount)
    assert field in refusal.value.message_dict
    assert state_of(application) == before


def test_approved_amount_above_the_max_grant_is_refused(stocked, small):
    application = make_application(small, stocked.union_xihu, until=S.REVIEWED, requested="60000.00")
    # The cap was lowered after the union applied (e.g. corrected by the administrator).
    Program.objects.filter(pk=small.pk).update(max_grant=Decimal("45000.00"))
    before = state_of(application)
    with pytest.raises(ApplicationError) as refusal:
        approve(application, stocked.province, "50000.00")
    assert refusal.value.code == "amount_above_max_grant"
    assert "45,000.00" in refusal.value.detail
    assert state_of(application) == before
    assert approve(application, stocked.province, "45000.00").status == S.APPROVED


def test_budget_exceeded_names_the_remaining_figure_and_changes_nothing(stocked, small):
    first = make_application(small, stocked.union_xihu, until=S.APPROVED, requested="60000.00")
    assert first.approved_amount == Decimal("60000.00")
    second = make_application(small, stocked.union_yinzhou, until=S.REVIEWED, requested="60000.00")
    before = state_of(second)

    with pytest.raises(ApplicationError) as refusal:
        approve(second, stocked.province, "60000.00")

    assert refusal.value.code == "budget_exceeded"
    assert "40,000.00" in refusal.value.detail and "60,000.00" in refusal.value.detail
    assert refusal.value.extra["remaining"] == "40000.00"
    assert state_of(second) == before
    assert not Allocation.objects.filter(application=second).exists()
    assert not AuditEvent.objects.filter(action="application.approve", object_id=str(second.pk)).exists()

    # Exactly what is left can be granted; then nothing is left.
    assert approve(second, stocked.province, "40000.00").status == S.APPROVED
    third = make_application(small, stocked.union_yuhang, until=S.REVIEWED, requested="10000.00")
    with pytest.raises(ApplicationError) as refusal:
        approve(third, stocked.province, "0.01")
    assert refusal.value.code == "budget_exceeded"
    assert refusal.value.extra["remaining"] == "0.00"
    figures = services.program_budget_figures(small)
    assert figures["approved_total"] == Decimal("100000.00") and figures["approved_count"] == 2


def test_target_reached_refuses_one_more_union(stocked):
    program = make_program(stocked.province, target_count=2)
    make_application(program, stocked.union_xihu, until=S.APPROVED)
    make_application(program, stocked.union_yuhang, until=S.APPROVED)
    third = make_application(program, stocked.union_yinzhou, until=S.REVIEWED)
    before = state_of(third)
    with pytest.raises(ApplicationError) as refusal:
        approve(third, stocked.province, "1000.00")
    assert refusal.value.code == "target_reached"
    assert "2" in refusal.value.detail
    assert state_of(third) == before


def test_city_quota_reached_refuses_another_union_of_that_city_only(stocked):
    program = make_program(stocked.province, city_quotas={"330100": 1, "330200": 2})
    make_application(program, stocked.union_xihu, until=S.APPROVED)
    yuhang = make_application(program, stocked.union_yuhang, until=S.REVIEWED)  # also Hangzhou
    before = state_of(yuhang)
    with pytest.raises(ApplicationError) as refusal:
        approve(yuhang, stocked.province, "60000.00")
    assert refusal.value.code == "city_quota_reached"
    assert "杭州市" in refusal.value.detail and "1" in refusal.value.detail
    assert refusal.value.extra["city"] == "330100"
    assert state_of(yuhang) == before
    # Ningbo still has room.
    yinzhou = make_application(program, stocked.union_yinzhou, until=S.REVIEWED)
    assert approve(yinzhou, stocked.province, "60000.00").status == S.APPROVED


def test_approval_creates_an_allocation_split_40_60_to_the_fen(stocked, program):
    application = make_application(program, stocked.union_xihu, until=S.REVIEWED, requested="60000.00")
    with clock.travel(dt.datetime(2026, 11, 20, 10, 30)):
        application = approve(application, stocked.province, "33333.33")
    allocation = Allocation.objects.get(application=application)
    assert allocation.amount == Decimal("33333.33")
    assert allocation.program == program and allocation.union == stocked.union_xihu
    assert allocation.approved_at == application.decided_at
    assert allocation.approved_at.date() == dt.date(2026, 11, 20)
    funding = list(allocation.funding.values_list("source", "amount"))
    assert funding == [("fiscal", Decimal("13333.33")), ("union", Decimal("20000.00"))]
    assert sum(amount for _, amount in funding) == allocation.amount


def test_a_full_grant_of_60000_is_24000_fiscal_and_36000_union(stocked, program):
    application = make_application(program, stocked.union_xihu, until=S.APPROVED, requested="60000.00")
    funding = dict(application.allocation.funding.values_list("source", "amount"))
    assert funding == {"fiscal": Decimal("24000.00"), "union": Decimal("36000.00")}


# ------------------------------------------------------------------ program_create


def test_program_create_writes_the_program_its_sources_and_an_audit_event(cast):
    program = make_program(cast.province, city_quotas={"330100": 40, "330200": 35})
    assert program.owner_id == "330000"
    assert program.budget_total == Decimal("15000000.00")
    assert program.max_grant == Decimal("60000.00")
    assert list(program.funding.values_list("source", "amount")) == [
        ("fiscal", Decimal("6000000.00")),
        ("union", Decimal("9000000.00")),
    ]
    assert dict(program.city_quotas.values_list("city_id", "count")) == {"330100": 40, "330200": 35}
    event = AuditEvent.objects.get(action="program.create", object_id=str(program.pk))
    assert event.actor == cast.province
    assert event.after["funding_sources"] == [
        {"source": "fiscal", "amount": "6000000.00"},
        {"source": "union", "amount": "9000000.00"},
    ]


def test_program_max_grant_defaults_to_total_over_target(cast):
    program = make_program(cast.province, max_grant=None)
    assert program.max_grant == Decimal("60000.00")


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        (
            {
                "funding_sources": [
                    {"source": "fiscal", "amount": "6000000.00"},
                    {"source": "union", "amount": "8000000.00"},
                ]
            },
            "funding_sources",
            ["14,000,000.00", "15,000,000.00"],
        ),
        (
            {
                "funding_sources": [
                    {"source": "fiscal", "amount": "6000000.00"},
                    {"source": "fiscal", "amount": "9000000.00"},
                ]
            },
            "funding_sources",
            ["重复"],
        ),
        ({"funding_sources": [{"source": "lottery", "amount": "15000000.00"}]}, "funding_sources", ["lottery"]),
        ({"funding_sources": []}, "funding_sources", ["资金来源"]),
        ({"categories": ["activities", "travel"]}, "categories", ["travel"]),
        ({"city_quotas": {"330106": 3}}, "city_quotas", ["330106"]),
        ({"city_quotas": {"999900": 3}}, "city_quotas", ["999900"]),
        ({"max_grant": "16000000.00"}, "max_grant", ["上限"]),
        ({"budget_total": "0"}, "budget_total", ["大于 0"]),
        ({"target_count": 0}, "target_count", ["正整数"]),
        ({"target_count": 10**20}, "target_count", ["正整数"]),
        ({"closes_on": dt.date(2020, 1, 1)}, "closes_on", ["截止"]),
        # Numbers and dates no column can hold, or no one can mean: refused by field, never sent to the database.
        ({"city_quotas": {"330100": 10**20}}, "city_quotas", ["杭州市", "2147483647"]),
        ({"city_quotas": {"330100": 2**31}}, "city_quotas", ["杭州市"]),
        ({"city_quotas": {"330100": True}}, "city_quotas", ["杭州市"]),
        ({"opens_on": dt.date(1, 1, 1)}, "opens_on", ["1900-01-01"]),
        ({"closes_on": dt.date(9999, 12, 31)}, "closes_on", ["2100-12-31"]),
    ],
)
def test_program_create_refuses_inconsistent_programs(cast, overrides, field, words):
    with pytest.raises(ValidationError) as refusal:
        make_program(cast.province, **overrides)
    messages = " ".join(refusal.value.message_dict[field])
    for word in words:
        assert word in messages
    assert not Program.objects.exists()
    assert not ProgramFunding.objects.exists()
    assert not AuditEvent.objects.filter(action="program.create").exists()


def test_a_city_program_cannot_have_a_quota_for_a_city_outside_it(cast):
    with pytest.raises(ValidationError) as refusal:
        make_program(cast.hangzhou, owner="330100", city_quotas={"330200": 3})
    assert "330200" in refusal.value.message_dict["city_quotas"][0]


def test_program_create_by_roles(cast):
    for user in (cast.officer, cast.auditor, cast.city_auditor):
        with pytest.raises(PermissionDenied):
            services.program_create(data=program_data(), by=user)
    with pytest.raises(ValidationError) as refusal:
        services.program_create(data=program_data(owner="330000"), by=cast.hangzhou)  # not its own level
    assert "owner" in refusal.value.message_dict
    assert make_program(cast.hangzhou, owner="330100").owner_id == "330100"
    assert make_program(cast.xihu, owner="330106").owner_id == "330106"
    make_program(cast.province, name="同名项目")
    with pytest.raises(ValidationError) as refusal:
        make_program(cast.province, name="同名项目")
    assert "name" in refusal.value.message_dict
    assert Program.objects.filter(name="同名项目").count() == 1


# ------------------------------------------------------------------ application_create / update


def test_application_create_records_eligibility_priority_and_an_audit_event(stocked, program):
    application = make_application(
        program,
        stocked.union_xihu,
        requested="50000.00",
        lines=[
            {"category": "activities", "amount": "20000.00", "description": "节日慰问"},
            {"category": "skills", "amount": "30000.00", "description": "技能培训"},
        ],
    )
    assert application.status == S.DRAFT
    assert application.eligible is True
    assert application.priority_score == 40 + 30 + 10 + 3
    assert [c["rule"] for c in application.eligibility_checks] == list(RULES)
    assert list(application.budget_lines.values_list("category", "amount")) == [
        ("activities", Decimal("20000.00")),
        ("skills", Decimal("30000.00")),
    ]
    event = AuditEvent.objects.get(action="application.create", object_id=str(application.pk))
    assert event.after["requested_amount"] == "50000.00"
    assert len(event.after["budget_lines"]) == 2


def create(program, union, by, **data):
    return services.application_create(
        data={"program": program.pk, "union": union.pk, "requested_amount": "50000.00", **data}, by=by
    )


def test_a_second_application_of_the_same_union_is_refused(stocked, program):
    first = create(program, stocked.union_xihu, stocked.officer)
    with pytest.raises(ValidationError) as refusal:
        create(program, stocked.union_xihu, stocked.xihu)
    message = refusal.value.message_dict["union"][0]
    assert "single_application" in message and str(first.pk) in message
    assert Application.objects.filter(program=program, union=stocked.union_xihu).count() == 1


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"requested_amount": "60000.01"}, "requested_amount", ["60,000.00"]),
        ({"requested_amount": "0"}, "requested_amount", ["大于 0"]),
        ({"requested_amount": "12.345"}, "requested_amount", ["两位小数"]),
        (
            {
                "budget_lines": [
                    {"category": "activities", "amount": "20000.00"},
                    {"category": "skills", "amount": "20000.00"},
                ]
            },
            "budget_lines",
            ["40,000.00", "50,000.00"],
        ),
        ({"budget_lines": [{"category": "warmth", "amount": "50000.00"}]}, "budget_lines", ["warmth"]),
        ({"budget_lines": [{"category": "activities", "amount": "-1.00"}]}, "budget_lines", ["负数"]),
    ],
)
def test_application_create_refuses_bad_requests(stocked, program, data, field, words):
    with pytest.raises(ValidationError) as refusal:
        create(program, stocked.union_xihu, stocked.officer, **data)
    message = " ".join(refusal.value.message_dict[field])
    for word in words:
        assert word in message
    assert not Application.objects.exists()
    assert not BudgetLine.objects.exists()


def test_application_create_by_roles_and_scope(stocked, program):
    for user in (stocked.province, stocked.hangzhou, stocked.auditor):
        with pytest.raises(PermissionDenied):
            create(program, stocked.union_xihu, user)
    with pytest.raises(ValidationError) as refusal:
        create(program, stocked.union_xihu, stocked.yuhang)  # not Yuhang's union
    assert "union" in refusal.value.message_dict
    with pytest.raises(ValidationError) as refusal:
        create(program, stocked.union_xihu_other, stocked.officer)  # not the officer's union
    assert "union" in refusal.value.message_dict
    hangzhou_program = make_program(stocked.hangzhou, owner="330100")
    with pytest.raises(ValidationError) as refusal:
        create(hangzhou_program, stocked.union_yinzhou, stocked.yinzhou)  # Ningbo cannot see it
    assert "program" in refusal.value.message_dict
    assert not Application.objects.exists()
    assert create(program, stocked.union_xihu_other, stocked.xihu).created_by == stocked.xihu


def test_application_update_only_on_drafts_by_the_union_or_its_county(stocked, program):
    application = create(program, stocked.union_xihu, stocked.officer)
    with pytest.raises(PermissionDenied):
        services.application_update(application=application, data={"plan": "x"}, by=stocked.province)
    with pytest.raises(Http404):
        services.application_update(application=application, data={"plan": "x"}, by=stocked.yuhang)
    with pytest.raises(ValidationError) as refusal:
        services.application_update(
            application=application,
            data={"budget_lines": [{"category": "activities", "amount": "10000.00"}]},
            by=stocked.officer,
        )
    assert "10,000.00" in refusal.value.message_dict["budget_lines"][0]
    updated = services.application_update(
        application=application, data={"plan": "开展技能培训", "requested_amount": "45000.00"}, by=stocked.officer
    )
    assert (updated.plan, updated.requested_amount) == ("开展技能培训", Decimal("45000.00"))
    assert AuditEvent.objects.filter(action="application.update", object_id=str(application.pk)).count() == 1
    services.application_transition(application=application, action="submit", by=stocked.officer)
    with pytest.raises(ApplicationError) as refused:  # the role may edit, the state forbids it: 409
        services.application_update(application=application, data={"plan": "改"}, by=stocked.officer)
    assert refused.value.code == "application_not_draft"


@pytest.mark.parametrize("until", [S.APPROVED, S.REJECTED])
def test_a_decided_application_takes_no_attachment_with_a_state_code(stocked, program, until):
    application = make_application(program, stocked.union_xihu, until=until, requested="30000.00")
    with pytest.raises(ApplicationError, match="已决定") as refused:
        services.attachment_add(application=application, kind="plan", filename="计划.pdf", content=PDF, by=stocked.xihu)
    assert refused.value.code == "application_decided"
    with pytest.raises(PermissionDenied):  # a role that never attaches is refused as such
        services.attachment_add(
            application=application, kind="plan", filename="计划.pdf", content=PDF, by=stocked.hangzhou
        )
    assert not application.attachments.exists()


def test_drafting_for_a_dissolved_union_is_a_state_refusal(stocked, program):
    Union.objects.filter(pk=stocked.union_xihu.pk).update(status=UnionStatus.DISSOLVED)
    with pytest.raises(ApplicationError) as refused:
        create(program, stocked.union_xihu, stocked.xihu)
    assert refused.value.code == "union_dissolved"
    with pytest.raises(PermissionDenied):
        create(program, stocked.union_xihu, stocked.hangzhou)


# ------------------------------------------------------------------ city and county programs


def test_a_city_program_is_reviewed_and_decided_by_the_city(stocked):
    program = make_program(stocked.hangzhou, owner="330100", name="杭州市新业态工会补助", target_count=10)
    application = make_application(program, stocked.union_xihu, until=S.REVIEWED, requested="20000.00")
    before = state_of(application)
    for user in (stocked.province, stocked.xihu, stocked.officer, stocked.auditor, stocked.city_auditor):
        with pytest.raises(PermissionDenied):
            approve(application, user, "20000.00")
    for user in (stocked.ningbo, stocked.yinzhou, stocked.yuhang):
        with pytest.raises(Http404):
            approve(application, user, "20000.00")
    assert state_of(application) == before
    application = approve(application, stocked.hangzhou, "20000.00")
    assert application.status == S.APPROVED
    assert Allocation.objects.get(application=application).amount == Decimal("20000.00")
    assert application.history.last().actor == stocked.hangzhou


def test_a_county_program_is_recommended_and_decided_by_the_county(stocked):
    program = make_program(stocked.xihu, owner="330106", name="西湖区新业态工会补助", target_count=3)
    application = make_application(program, stocked.union_xihu, until=S.RECOMMENDED, requested="10000.00")
    with pytest.raises(ApplicationError) as refusal:
        services.application_transition(application=application, action="review", by=stocked.hangzhou)
    assert refusal.value.code == "illegal_transition"  # no city step in a county's own program
    for user in (stocked.hangzhou, stocked.province, stocked.officer):
        with pytest.raises(PermissionDenied):
            approve(application, user, "10000.00")
    application = approve(application, stocked.xihu, "10000.00")
    assert application.status == S.APPROVED
    assert [h.action for h in application.history.all()] == ["submit", "recommend", "approve"]
    # A union of another county cannot apply to it: its county does not even see the program.
    with pytest.raises(ValidationError):
        create(program, stocked.union_yuhang, stocked.yuhang)


def test_a_county_program_can_be_returned_and_rejected_by_the_county(stocked):
    program = make_program(stocked.xihu, owner="330106", name="西湖区新业态工会补助")
    returned = make_application(program, stocked.union_xihu, until=S.RECOMMENDED, requested="10000.00")
    services.application_transition(application=returned, action="return", by=stocked.xihu, comment="补充材料")
    assert Application.objects.get(pk=returned.pk).status == S.DRAFT
    rejected = make_application(program, stocked.union_xihu_other, until=S.REJECTED, requested="10000.00")
    assert rejected.status == S.REJECTED and not Allocation.objects.exists()


# ------------------------------------------------------------------ back-dated entries with clock.travel


def test_back_dated_entries_follow_the_window_of_their_day(cast, program_2022):
    union = eligible_union(chair_elected_on=dt.date(2021, 3, 1))
    # Today the 2022 window is long closed.
    with pytest.raises(ApplicationError) as refusal:
        make_application(program_2022, union)
    assert refusal.value.code == "window_closed"
    assert "2022-09-30" in refusal.value.detail

    with clock.travel(dt.datetime(2022, 7, 5, 10)):
        application = make_application(program_2022, union, until=S.DRAFT)
    # A draft of July may not be submitted in October ...
    with clock.travel(dt.datetime(2022, 10, 8, 10)), pytest.raises(ApplicationError) as refusal:
        services.application_transition(application=application, action="submit", by=cast.xihu)
    assert refusal.value.code == "window_closed"
    assert Application.objects.get(pk=application.pk).status == S.DRAFT
    # ... but in August, and the history carries the dates of 2022.
    with clock.travel(dt.datetime(2022, 8, 1, 9)):
        application = services.application_transition(application=application, action="submit", by=cast.xihu)
    with clock.travel(dt.datetime(2022, 8, 3, 9)):
        application = services.application_transition(application=application, action="recommend", by=cast.xihu)
    with clock.travel(dt.datetime(2022, 8, 10, 9)):
        application = services.application_transition(application=application, action="review", by=cast.hangzhou)
    with clock.travel(dt.datetime(2022, 9, 15, 9)):
        application = approve(application, cast.province, "60000.00")
    assert application.created_at.date() == dt.date(2022, 7, 5)
    assert application.submitted_at.date() == dt.date(2022, 8, 1)
    assert [h.at.date() for h in application.history.all()] == [
        dt.date(2022, 8, 1),
        dt.date(2022, 8, 3),
        dt.date(2022, 8, 10),
        dt.date(2022, 9, 15),
    ]
    assert application.allocation.approved_at.date() == dt.date(2022, 9, 15)


def test_back_dated_eligibility_uses_the_date_of_the_entry(cast, program_2022):
    # Chair elected in 2023: in 2022 the union had no elected chair yet, so it cannot be approved then.
    union = eligible_union(chair_elected_on=dt.date(2023, 3, 1))
    with clock.travel(dt.datetime(2022, 7, 5, 10)):
        application = make_application(program_2022, union, until=S.REVIEWED)
        assert application.eligible is False
        with pytest.raises(ApplicationError) as refusal:
            approve(application, cast.province, "60000.00")
    assert refusal.value.code == "not_eligible"
    assert "主席依法选举" in refusal.value.detail and "2023-03-01" in refusal.value.detail
    assert [c["rule"] for c in refusal.value.extra["failed"]] == ["chair_elected"]


def test_submit_before_the_window_opens_is_refused(cast):
    later = make_program(
        cast.province, opens_on=clock.today() + dt.timedelta(days=10), closes_on=clock.today() + dt.timedelta(days=40)
    )
    union = eligible_union()
    application = make_application(later, union)  # drafting early is fine
    with pytest.raises(ApplicationError) as refusal:
        services.application_transition(application=application, action="submit", by=cast.xihu)
    assert refusal.value.code == "window_closed"


def test_the_2022_program_as_entered(program_2022):
    assert (program_2022.year, program_2022.budget_total, program_2022.target_count, program_2022.max_grant) == (
        2022,
        Decimal("15000000.00"),
        250,
        Decimal("60000.00"),
    )
    assert dict(program_2022.funding.values_list("source", "amount")) == {
        "fiscal": Decimal("6000000.00"),
        "union": Decimal("9000000.00"),
    }
