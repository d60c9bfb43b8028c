"""The members service layer: unions (register, update, workflow) and members (add, update).

Each test states what a user would notice: who may act, what they see refused and why, what the
audit trail keeps, and that personal numbers never land in the database or the trail in full.
"""

import datetime as dt
import json
import random

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from members import fakes, services
from members.choices import OrgForm, ParentLevel, UnionStatus, WorkerGroup
from members.models import Member, Union
from unionfunds.core.errors import ApplicationError
from unionfunds.core.models import AuditEvent

from ..factories import UnionFactory


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # The cast sets nine passwords; the production hasher would make every test take seconds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


BANK_ACCOUNT = "6222021202000123456"
CONTACT_PHONE = "13905711234"


def credit_code(county: str, seed: str = "x") -> str:
    return fakes.credit_code(random.Random(seed), county)


def id_number(seed: str, gender: str | None = None) -> str:
    return fakes.id_number(random.Random(seed), gender=gender)


def union_data(county: str = "330106", **overrides) -> dict:
    data = {
        "name": "西湖区网约车司机联合工会",
        "credit_code": credit_code(county),
        "org_form": OrgForm.JOINT_UNION,
        "county": county,
        "parent_level": ParentLevel.COUNTY,
        "covered_groups": [WorkerGroup.RIDE_HAILING, WorkerGroup.FOOD_DELIVERY],
        "chair_name": "李明",
        "chair_elected_on": dt.date(2023, 5, 1),
        "chair_term_years": 5,
        "committee_size": 5,
        "founded_on": dt.date(2023, 1, 1),
        "funds_hard_to_guarantee": True,
        "bank_name": "中国工商银行",
        "bank_account": BANK_ACCOUNT,
        "contact_name": "赵敏",
        "contact_phone": CONTACT_PHONE,
    }
    data.update(overrides)
    return data


def member_data(number: str, **overrides) -> dict:
    data = {
        "name": "陈小龙",
        "id_number": number,
        "phone": "13800138000",
        "group": WorkerGroup.FOOD_DELIVERY,
        "platform": "美团",
        "joined_on": dt.date(2024, 3, 1),
    }
    data.update(overrides)
    return data


def events(action: str | None = None):
    """Audit events written by the test (the regions fixture's own load event left out)."""
    qs = AuditEvent.objects.exclude(action="region.load").order_by("id")
    return list(qs.filter(action=action) if action else qs)


def all_audit_text() -> str:
    return json.dumps(list(AuditEvent.objects.values()), default=str, ensure_ascii=False)


def field_errors(exc: pytest.ExceptionInfo) -> dict:
    return exc.value.message_dict


# ---------------------------------------------------------------- union_register


def test_county_staff_registers_a_pending_union_and_the_trail_masks_bank_and_phone(cast):
    union = services.union_register(data=union_data(), by=cast.xihu)

    union.refresh_from_db()
    assert union.status == UnionStatus.PENDING
    assert union.county_id == "330106"
    assert union.groups == [WorkerGroup.RIDE_HAILING, WorkerGroup.FOOD_DELIVERY]
    assert union.bank_account == BANK_ACCOUNT  # kept whole for the transfer itself

    [event] = events("union.register")
    assert event.actor == cast.xihu
    assert event.object_id == str(union.pk)
    assert event.before is None
    assert event.after["name"] == "西湖区网约车司机联合工会"
    assert event.after["status"] == UnionStatus.PENDING
    assert event.after["bank_account"] == "6222***********3456"
    assert event.after["contact_phone"] == "139****1234"
    assert BANK_ACCOUNT not in all_audit_text()
    assert CONTACT_PHONE not in all_audit_text()


@pytest.mark.parametrize("who", ["province", "hangzhou", "officer", "auditor", "city_auditor"])
def test_only_county_staff_may_register_a_union(cast, who):
    with pytest.raises(PermissionDenied):
        services.union_register(data=union_data(), by=getattr(cast, who))
    assert not Union.objects.filter(name="西湖区网约车司机联合工会").exists()
    assert not events("union.register")


def test_registering_in_a_county_outside_the_scope_is_a_county_error(cast):
    with pytest.raises(ValidationError) as exc:
        services.union_register(data=union_data("330110"), by=cast.xihu)
    assert list(field_errors(exc)) == ["county"]
    assert "330110" in field_errors(exc)["county"][0]
    assert not Union.objects.filter(county_id="330110", name="西湖区网约车司机联合工会").exists()


def test_registering_with_an_unknown_county_is_a_county_error(cast):
    with pytest.raises(ValidationError) as exc:
        services.union_register(data=union_data(county="339999"), by=cast.xihu)
    assert "county" in field_errors(exc)


def test_bad_credit_code_checksum_is_refused_with_the_expected_character(cast):
    good = credit_code("330106")
    wrong_last = "0" if good[-1] != "0" else "1"
    with pytest.raises(ValidationError) as exc:
        services.union_register(data=union_data(credit_code=good[:17] + wrong_last), by=cast.xihu)
    message = field_errors(exc)["credit_code"][0]
    assert "校验位" in message
    assert good[-1] in message
    assert Union.objects.count() == 4  # only the cast's


def test_non_union_credit_code_is_refused(cast):
    # A valid company code (category 91) is not a union code.
    with pytest.raises(ValidationError) as exc:
        services.union_register(data=union_data(credit_code="91350100M000100Y43"), by=cast.xihu)
    assert "81" in field_errors(exc)["credit_code"][0]


def test_duplicate_credit_code_names_the_union_that_holds_it(cast):
    with pytest.raises(ValidationError) as exc:
        services.union_register(data=union_data(credit_code=cast.union_xihu.credit_code), by=cast.xihu)
    assert cast.union_xihu.name in field_errors(exc)["credit_code"][0]


def test_duplicate_credit_code_in_another_city_is_named_too(cast):
    # The other union is outside xihu's scope, but a code is unique in the whole province.
    with pytest.raises(ValidationError) as exc:
        services.union_register(data=union_data(credit_code=cast.union_yinzhou.credit_code.lower()), by=cast.xihu)
    assert cast.union_yinzhou.name in field_errors(exc)["credit_code"][0]


def test_unknown_covered_group_is_refused(cast):
    with pytest.raises(ValidationError) as exc:
        services.union_register(data=union_data(covered_groups=["courier", "astronaut"]), by=cast.xihu)
    assert "astronaut" in field_errors(exc)["covered_groups"][0]


def test_bad_contact_phone_and_future_date_are_both_reported(cast):
    future = dt.date.today() + dt.timedelta(days=3)
    with pytest.raises(ValidationError) as exc:
        services.union_register(data=union_data(contact_phone="0571-1234", founded_on=future), by=cast.xihu)
    assert set(field_errors(exc)) == {"contact_phone", "founded_on"}


# ---------------------------------------------------------------- union_update


def test_officer_updates_their_union_and_the_trail_has_before_and_after(cast):
    union = services.union_update(
        union=cast.union_xihu, data={"chair_name": "周红", "committee_size": 7}, by=cast.officer
    )

    union.refresh_from_db()
    assert (union.chair_name, union.committee_size) == ("周红", 7)
    [event] = events("union.update")
    assert event.actor == cast.officer
    assert (event.before["chair_name"], event.after["chair_name"]) == ("王芳", "周红")
    assert (event.before["committee_size"], event.after["committee_size"]) == (5, 7)


def test_update_that_changes_nothing_writes_no_audit_event(cast):
    services.union_update(union=cast.union_xihu, data={"chair_name": "王芳"}, by=cast.xihu)
    assert not events("union.update")


def test_bank_account_change_is_audited_masked(cast):
    services.union_update(union=cast.union_xihu, data={"bank_account": BANK_ACCOUNT}, by=cast.officer)
    [event] = events("union.update")
    assert event.before["bank_account"] == ""
    assert event.after["bank_account"] == "6222***********3456"
    assert BANK_ACCOUNT not in all_audit_text()


@pytest.mark.parametrize(
    ("name", "value"), [("credit_code", None), ("county", "330110"), ("parent_level", ParentLevel.CITY)]
)
def test_officer_cannot_change_identity_county_or_parent_level(cast, name, value):
    if name == "credit_code":
        value = credit_code("330106", "other")
    with pytest.raises(ValidationError) as exc:
        services.union_update(union=cast.union_xihu, data={name: value, "chair_name": "周红"}, by=cast.officer)
    assert list(field_errors(exc)) == [name]
    cast.union_xihu.refresh_from_db()
    assert cast.union_xihu.chair_name == "王芳"
    assert not events("union.update")


def test_county_staff_may_change_the_credit_code(cast):
    new_code = credit_code("330106", "other")
    services.union_update(union=cast.union_xihu, data={"credit_code": new_code}, by=cast.xihu)
    cast.union_xihu.refresh_from_db()
    assert cast.union_xihu.credit_code == new_code
    [event] = events("union.update")
    assert event.after["credit_code"] == new_code


def test_county_staff_cannot_move_a_union_out_of_their_county(cast):
    with pytest.raises(ValidationError) as exc:
        services.union_update(union=cast.union_xihu, data={"county": "330110"}, by=cast.xihu)
    assert list(field_errors(exc)) == ["county"]
    cast.union_xihu.refresh_from_db()
    assert cast.union_xihu.county_id == "330106"


def test_update_to_a_credit_code_already_taken_names_the_other_union(cast):
    with pytest.raises(ValidationError) as exc:
        services.union_update(
            union=cast.union_xihu, data={"credit_code": cast.union_xihu_other.credit_code}, by=cast.xihu
        )
    assert cast.union_xihu_other.name in field_errors(exc)["credit_code"][0]


@pytest.mark.parametrize(
    ("who", "union"),
    [
        ("yuhang", "union_xihu"),  # another county of the same city
        ("yinzhou", "union_xihu"),  # another city
        ("ningbo", "union_xihu"),
        ("officer", "union_xihu_other"),  # another union of the same county
    ],
)
def test_union_outside_the_scope_does_not_exist(cast, who, union):
    with pytest.raises(Http404):
        services.union_update(union=getattr(cast, union), data={"chair_name": "周红"}, by=getattr(cast, who))
    assert Union.objects.get(pk=getattr(cast, union).pk).chair_name == "王芳"


@pytest.mark.parametrize("who", ["province", "hangzhou", "auditor", "city_auditor"])
def test_union_in_scope_but_role_may_not_edit(cast, who):
    with pytest.raises(PermissionDenied):
        services.union_update(union=cast.union_xihu, data={"chair_name": "周红"}, by=getattr(cast, who))


def test_dissolved_union_cannot_be_edited(cast):
    services.union_transition(union=cast.union_xihu, action="dissolve", by=cast.xihu)
    with pytest.raises(ApplicationError) as refused:
        services.union_update(union=cast.union_xihu, data={"chair_name": "周红"}, by=cast.xihu)
    assert refused.value.code == "union_dissolved"


# ---------------------------------------------------------------- union_transition


def test_union_workflow_verify_suspend_reinstate_dissolve(cast):
    union = services.union_register(data=union_data(), by=cast.xihu)
    assert union.verified_at is None

    union = services.union_transition(union=union, action="verify", by=cast.xihu, comment="材料齐全")
    assert union.status == UnionStatus.VERIFIED
    assert union.verified_at is not None
    union = services.union_transition(union=union, action="suspend", by=cast.xihu)
    assert union.status == UnionStatus.SUSPENDED
    union = services.union_transition(union=union, action="reinstate", by=cast.xihu)
    assert union.status == UnionStatus.VERIFIED
    union = services.union_transition(union=union, action="dissolve", by=cast.xihu)
    assert Union.objects.get(pk=union.pk).status == UnionStatus.DISSOLVED

    trail = [
        (e.action, e.before["status"], e.after["status"])
        for e in events()
        if e.object_id == str(union.pk) and e.action != "union.register"
    ]
    assert trail == [
        ("union.verify", "pending", "verified"),
        ("union.suspend", "verified", "suspended"),
        ("union.reinstate", "suspended", "verified"),
        ("union.dissolve", "verified", "dissolved"),
    ]
    verify = events("union.verify")[0]
    assert verify.actor == cast.xihu
    assert verify.after["comment"] == "材料齐全"


def test_pending_union_may_be_dissolved(cast):
    union = services.union_register(data=union_data(), by=cast.xihu)
    services.union_transition(union=union, action="dissolve", by=cast.xihu)
    assert Union.objects.get(pk=union.pk).status == UnionStatus.DISSOLVED


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (UnionStatus.PENDING, "suspend"),
        (UnionStatus.PENDING, "reinstate"),
        (UnionStatus.VERIFIED, "verify"),
        (UnionStatus.VERIFIED, "reinstate"),
        (UnionStatus.SUSPENDED, "suspend"),
        (UnionStatus.DISSOLVED, "reinstate"),
        (UnionStatus.DISSOLVED, "verify"),
        (UnionStatus.DISSOLVED, "dissolve"),
        (UnionStatus.VERIFIED, "approve"),  # not an action of this workflow at all
    ],
)
def test_illegal_union_transition_is_refused_and_changes_nothing(cast, status, action):
    Union.objects.filter(pk=cast.union_xihu.pk).update(status=status)
    with pytest.raises(ApplicationError) as exc:
        services.union_transition(union=cast.union_xihu, action=action, by=cast.xihu)
    assert exc.value.code == "illegal_transition"
    assert Union.objects.get(pk=cast.union_xihu.pk).status == status
    assert not events()


@pytest.mark.parametrize("who", ["province", "hangzhou", "officer", "auditor"])
def test_only_the_county_verifies(cast, who):
    Union.objects.filter(pk=cast.union_xihu.pk).update(status=UnionStatus.PENDING)
    with pytest.raises(PermissionDenied):
        services.union_transition(union=cast.union_xihu, action="verify", by=getattr(cast, who))
    assert Union.objects.get(pk=cast.union_xihu.pk).status == UnionStatus.PENDING
    assert not events()


def test_another_county_cannot_even_find_the_union_to_verify(cast):
    Union.objects.filter(pk=cast.union_xihu.pk).update(status=UnionStatus.PENDING)
    with pytest.raises(Http404):
        services.union_verify(union=cast.union_xihu, by=cast.yuhang)
    assert Union.objects.get(pk=cast.union_xihu.pk).status == UnionStatus.PENDING


# ---------------------------------------------------------------- member_add


def assert_number_nowhere(number: str) -> None:
    """The full ID number is in no column of any Member row and in no audit event."""
    for row in Member.objects.values():
        for column, value in row.items():
            assert number not in str(value), f"full ID number stored in Member.{column}"
    assert number not in all_audit_text()
    assert number.lower() not in all_audit_text()


def test_member_add_stores_hash_and_mask_only_and_audits(cast):
    number = id_number("alice", gender="M")
    member = services.member_add(union=cast.union_xihu, data=member_data(number), by=cast.officer)

    member.refresh_from_db()
    assert member.union == cast.union_xihu
    assert member.gender == "M"  # derived from the ID number when not given
    assert member.id_number_masked == number[:6] + "********" + number[-4:]
    assert member.id_number_hash == services.hash_id_number(number)
    assert member.is_active
    assert Union.objects.get(pk=cast.union_xihu.pk).member_count == 1
    assert_number_nowhere(number)
    assert "13800138000" not in all_audit_text()

    [event] = events("member.add")
    assert event.actor == cast.officer
    assert event.before is None
    assert event.after["id_number_masked"] == member.id_number_masked
    assert event.after["joined_on"] == "2024-03-01"


def test_lower_case_x_finds_the_same_person(cast):
    base = next(n for n in (id_number(f"x{i}") for i in range(200)) if n.endswith("X"))
    services.member_add(union=cast.union_xihu, data=member_data(base), by=cast.xihu)
    with pytest.raises(ValidationError) as exc:
        services.member_add(union=cast.union_yuhang, data=member_data(base.lower()), by=cast.yuhang)
    assert OTHER_UNION in field_errors(exc)["id_number"][0]
    assert_number_nowhere(base)


def test_second_active_membership_in_the_province_is_refused(cast):
    number = id_number("bob")
    services.member_add(union=cast.union_xihu, data=member_data(number), by=cast.xihu)

    # Another city: the other union is out of yinzhou's scope, so the refusal does not name it.
    with pytest.raises(ValidationError) as exc:
        services.member_add(union=cast.union_yinzhou, data=member_data(number), by=cast.yinzhou)
    assert field_errors(exc)["id_number"] == [ELSEWHERE]
    assert Member.objects.filter(union=cast.union_yinzhou).count() == 0
    assert len(events("member.add")) == 1


# Who learns the name of the other union: only a user whose scope holds it (the county of both unions).
ELSEWHERE = "此人已是省内其他工会的在册会员，一人只能在全省一个工会在册；请联系所在县（市、区）总工会核实。"
OTHER_UNION = "省内其他工会"
# (who adds, into which union, the union the person is active in, whether the refusal names it)
ELSEWHERE_CASES = [
    ("xihu", "union_xihu", "union_xihu_other", True),  # both unions in Xihu's scope
    ("officer", "union_xihu", "union_xihu_other", False),  # an officer sees their own union only
    ("xihu", "union_xihu", "union_yuhang", False),  # another county of the same city
    ("yinzhou", "union_yinzhou", "union_xihu", False),  # another city
]


def expect_elsewhere(message: str, other: Union, named: bool) -> None:
    if named:
        assert other.name in message and "请先在原工会办理离会" in message
    else:
        assert message == ELSEWHERE
        assert not any(u.name in message for u in Union.objects.all())


@pytest.mark.parametrize(("who", "target", "other", "named"), ELSEWHERE_CASES)
def test_a_second_membership_names_the_other_union_only_to_who_can_see_it(cast, who, target, other, named):
    number = id_number(f"elsewhere-{who}-{other}")
    other, target = getattr(cast, other), getattr(cast, target)
    services.member_add(union=other, data=member_data(number), by=staff_of(cast, other))
    with pytest.raises(ValidationError) as exc:
        services.member_add(union=target, data=member_data(number), by=getattr(cast, who))
    expect_elsewhere(field_errors(exc)["id_number"][0], other, named)

    # Rejoining (undoing a leave) in the target union: the same rule.
    Member.objects.filter(union=other).update(left_on=dt.date(2024, 5, 1))
    member = services.member_add(union=target, data=member_data(number), by=getattr(cast, who))
    services.member_update(member=member, data={"left_on": dt.date(2024, 6, 30)}, by=getattr(cast, who))
    Member.objects.filter(union=other).update(left_on=None)
    with pytest.raises(ValidationError) as exc:
        services.member_update(member=member, data={"left_on": None}, by=getattr(cast, who))
    expect_elsewhere(field_errors(exc)["left_on"][0], other, named)


@pytest.mark.parametrize(("who", "target", "other", "named"), ELSEWHERE_CASES)
def test_when_the_database_catches_a_concurrent_membership_the_same_rule_holds(
    cast, who, target, other, named, monkeypatch
):
    """The check found nothing (another request was faster); the unique constraint refused the save."""
    number = id_number(f"race-{who}-{other}")
    other, target = getattr(cast, other), getattr(cast, target)
    services.member_add(union=other, data=member_data(number), by=staff_of(cast, other))
    real = services._active_elsewhere
    calls = []

    def first_misses(hashes, union):
        calls.append(union)
        return {} if len(calls) == 1 else real(hashes, union)

    monkeypatch.setattr(services, "_active_elsewhere", first_misses)
    with pytest.raises(ValidationError) as exc:
        services.member_add(union=target, data=member_data(number), by=getattr(cast, who))
    assert len(calls) == 2
    expect_elsewhere(field_errors(exc)["id_number"][0], other, named)


def staff_of(cast, union: Union):
    return {"330106": cast.xihu, "330110": cast.yuhang, "330212": cast.yinzhou}[union.county_id]


def test_adding_the_same_person_twice_to_one_union_is_refused(cast):
    number = id_number("carol")
    services.member_add(union=cast.union_xihu, data=member_data(number), by=cast.xihu)
    with pytest.raises(ValidationError) as exc:
        services.member_add(union=cast.union_xihu, data=member_data(number), by=cast.officer)
    assert "本工会" in field_errors(exc)["id_number"][0]
    assert Member.objects.count() == 1


def test_after_leaving_the_person_can_join_another_union(cast):
    number = id_number("dave")
    member = services.member_add(union=cast.union_xihu, data=member_data(number), by=cast.xihu)
    services.member_update(member=member, data={"left_on": dt.date(2025, 1, 31)}, by=cast.officer)
    assert Union.objects.get(pk=cast.union_xihu.pk).member_count == 0

    other = services.member_add(
        union=cast.union_yuhang, data=member_data(number, joined_on=dt.date(2025, 2, 1)), by=cast.yuhang
    )
    assert other.is_active
    assert Member.objects.active().filter(id_number_hash=services.hash_id_number(number)).get() == other
    assert Member.objects.filter(id_number_hash=services.hash_id_number(number)).count() == 2


def test_rejoining_the_same_union_reactivates_the_old_row(cast):
    number = id_number("erin")
    member = services.member_add(union=cast.union_xihu, data=member_data(number), by=cast.xihu)
    services.member_update(member=member, data={"left_on": dt.date(2024, 6, 30)}, by=cast.xihu)

    again = services.member_add(
        union=cast.union_xihu,
        data=member_data(number, joined_on=dt.date(2025, 1, 2), phone="13900001111"),
        by=cast.officer,
    )
    assert again.pk == member.pk
    again.refresh_from_db()
    assert again.left_on is None
    assert again.joined_on == dt.date(2025, 1, 2)
    assert again.phone == "13900001111"
    [event] = events("member.rejoin")
    assert event.before["left_on"] == "2024-06-30"
    assert event.after["left_on"] is None
    assert_number_nowhere(number)


def test_rejoin_is_refused_while_active_elsewhere(cast):
    number = id_number("frank")
    member = services.member_add(union=cast.union_xihu, data=member_data(number), by=cast.xihu)
    services.member_update(member=member, data={"left_on": dt.date(2024, 6, 30)}, by=cast.xihu)
    services.member_add(union=cast.union_yuhang, data=member_data(number), by=cast.yuhang)

    with pytest.raises(ValidationError) as exc:
        services.member_add(union=cast.union_xihu, data=member_data(number), by=cast.xihu)
    assert field_errors(exc)["id_number"] == [ELSEWHERE]  # Yuhang's union is outside Xihu's scope
    assert Member.objects.get(pk=member.pk).left_on == dt.date(2024, 6, 30)


@pytest.mark.parametrize(("id_gender", "given"), [("M", "F"), ("F", "M")])
def test_gender_that_contradicts_the_id_number_is_refused(cast, id_gender, given):
    number = id_number("gina", gender=id_gender)
    with pytest.raises(ValidationError) as exc:
        services.member_add(union=cast.union_xihu, data=member_data(number, gender=given), by=cast.xihu)
    assert list(field_errors(exc)) == ["gender"]
    assert "第 17 位" in field_errors(exc)["gender"][0]
    assert not Member.objects.exists()


def test_gender_matching_the_id_number_is_accepted(cast):
    number = id_number("hana", gender="F")
    member = services.member_add(union=cast.union_xihu, data=member_data(number, gender="F"), by=cast.xihu)
    assert member.gender == "F"


@pytest.mark.parametrize("phone", ["12345", "23800138000", "1380013800", "138001380001", "phone"])
def test_bad_phone_is_refused(cast, phone):
    with pytest.raises(ValidationError) as exc:
        services.member_add(union=cast.union_xihu, data=member_data(id_number("ivan"), phone=phone), by=cast.xihu)
    assert list(field_errors(exc)) == ["phone"]
    assert not Member.objects.exists()


def test_phone_is_normalised(cast):
    member = services.member_add(
        union=cast.union_xihu, data=member_data(id_number("jack"), phone="+86 138-0013-8000"), by=cast.xihu
    )
    assert Member.objects.get(pk=member.pk).phone == "13800138000"
    assert member.phone_masked == "138****8000"


def test_bad_id_number_checksum_is_refused(cast):
    number = id_number("kate")
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(ValidationError) as exc:
        services.member_add(union=cast.union_xihu, data=member_data(wrong), by=cast.xihu)
    assert "校验位" in field_errors(exc)["id_number"][0]
    assert not Member.objects.exists()
    assert wrong not in all_audit_text()


def test_missing_fields_are_all_reported(cast):
    data = {"id_number": id_number("leo"), "name": " ", "group": "astronaut"}
    with pytest.raises(ValidationError) as exc:
        services.member_add(union=cast.union_xihu, data=data, by=cast.xihu)
    assert set(field_errors(exc)) == {"name", "group", "joined_on"}


def test_member_add_requires_an_id_number(cast):
    data = member_data("x")
    del data["id_number"]
    with pytest.raises(ValidationError) as exc:
        services.member_add(union=cast.union_xihu, data=data, by=cast.xihu)
    assert "id_number" in field_errors(exc)


def test_join_date_in_the_future_is_refused(cast):
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        services.member_add(union=cast.union_xihu, data=member_data(id_number("max"), joined_on=tomorrow), by=cast.xihu)
    assert "joined_on" in field_errors(exc)


@pytest.mark.parametrize("who", ["province", "hangzhou", "auditor", "city_auditor"])
def test_only_the_union_or_its_county_keeps_the_roster(cast, who):
    with pytest.raises(PermissionDenied):
        services.member_add(union=cast.union_xihu, data=member_data(id_number("ned")), by=getattr(cast, who))
    assert not Member.objects.exists()


@pytest.mark.parametrize(("who", "union"), [("officer", "union_xihu_other"), ("yuhang", "union_xihu")])
def test_member_add_outside_the_scope_is_404(cast, who, union):
    with pytest.raises(Http404):
        services.member_add(union=getattr(cast, union), data=member_data(id_number("olga")), by=getattr(cast, who))
    assert not Member.objects.exists()


def test_dissolved_union_takes_no_new_members(cast):
    services.union_transition(union=cast.union_xihu, action="dissolve", by=cast.xihu)
    with pytest.raises(ApplicationError) as refused:
        services.member_add(union=cast.union_xihu, data=member_data(id_number("pam")), by=cast.xihu)
    assert refused.value.code == "union_dissolved"


# ---------------------------------------------------------------- member_update


@pytest.fixture
def member(cast):
    return services.member_add(union=cast.union_xihu, data=member_data(id_number("quinn", gender="M")), by=cast.xihu)


def test_member_update_changes_details_and_audits_them_masked(cast, member):
    services.member_update(member=member, data={"phone": "13711112222", "platform": "饿了么"}, by=cast.officer)
    member.refresh_from_db()
    assert (member.phone, member.platform) == ("13711112222", "饿了么")
    [event] = events("member.update")
    assert event.actor == cast.officer
    assert (event.before["platform"], event.after["platform"]) == ("美团", "饿了么")
    assert "13711112222" not in all_audit_text()


def test_member_update_that_changes_nothing_writes_no_event(cast, member):
    services.member_update(member=member, data={"platform": "美团"}, by=cast.xihu)
    assert not events("member.update")


def test_member_update_refuses_a_bad_phone(cast, member):
    with pytest.raises(ValidationError) as exc:
        services.member_update(member=member, data={"phone": "1234"}, by=cast.xihu)
    assert list(field_errors(exc)) == ["phone"]
    assert Member.objects.get(pk=member.pk).phone == "13800138000"


def test_member_update_refuses_a_gender_change_against_the_id(cast, member):
    # The ID number (male) is not stored, so the gender it gave at entry must stay.
    with pytest.raises(ValidationError) as exc:
        services.member_update(member=member, data={"gender": "F"}, by=cast.xihu)
    assert list(field_errors(exc)) == ["gender"]
    assert Member.objects.get(pk=member.pk).gender == "M"
    assert not events("member.update")


def test_member_update_accepts_the_unchanged_gender(cast, member):
    services.member_update(member=member, data={"gender": "M", "name": "陈大龙"}, by=cast.xihu)
    assert Member.objects.get(pk=member.pk).name == "陈大龙"


def test_id_number_cannot_be_changed(cast, member):
    with pytest.raises(ValidationError) as exc:
        services.member_update(member=member, data={"id_number": id_number("other")}, by=cast.xihu)
    assert "id_number" in field_errors(exc)


def test_leaving_before_joining_is_refused(cast, member):
    with pytest.raises(ValidationError) as exc:
        services.member_update(member=member, data={"left_on": dt.date(2024, 2, 1)}, by=cast.xihu)
    assert "left_on" in field_errors(exc)
    assert Member.objects.get(pk=member.pk).is_active


def test_undoing_a_leave_while_active_elsewhere_is_refused(cast):
    number = id_number("rita")
    member = services.member_add(union=cast.union_xihu, data=member_data(number), by=cast.xihu)
    services.member_update(member=member, data={"left_on": dt.date(2024, 6, 30)}, by=cast.xihu)
    services.member_add(union=cast.union_yinzhou, data=member_data(number), by=cast.yinzhou)

    with pytest.raises(ValidationError) as exc:
        services.member_update(member=member, data={"left_on": None}, by=cast.xihu)
    assert field_errors(exc)["left_on"] == [ELSEWHERE]  # another city's union: not named to Xihu
    assert Member.objects.get(pk=member.pk).left_on == dt.date(2024, 6, 30)


@pytest.mark.parametrize("who", ["yuhang", "ningbo"])
def test_member_update_outside_the_scope_is_404(cast, member, who):
    with pytest.raises(Http404):
        services.member_update(member=member, data={"platform": "滴滴"}, by=getattr(cast, who))


def test_member_update_by_city_staff_is_403(cast, member):
    with pytest.raises(PermissionDenied):
        services.member_update(member=member, data={"platform": "滴滴"}, by=cast.hangzhou)


def test_officer_of_another_union_cannot_find_the_member(cast):
    other_officer_union = UnionFactory(county_id="330106")
    from tests.factories import make_user

    other_officer = make_user("t_other_officer", "union_officer", union=other_officer_union)
    member = services.member_add(union=cast.union_xihu, data=member_data(id_number("sam")), by=cast.xihu)
    with pytest.raises(Http404):
        services.member_update(member=member, data={"left_on": dt.date(2025, 1, 1)}, by=other_officer)
    assert Member.objects.get(pk=member.pk).is_active
