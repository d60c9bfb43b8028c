"""Every write of the members app: check role and scope, validate, write, audit — in one transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_access_token_model, get_application_model, get_refresh_token_model
from rest_framework.authtoken.models import Token

from unionfunds.core import otp
from unionfunds.core.audit import audit_record, snapshot
from unionfunds.core.bulk import insert_rows
from unionfunds.core.dates import check_date, date_error
from unionfunds.core.decisions import enforce
from unionfunds.core.errors import ApplicationError
from unionfunds.core.identifiers import (
    gender_from_id_number,
    id_number_digest,
    mask_id_number,
    mask_personal_text,
    validate_contact_phone,
    validate_credit_code,
    validate_id_number,
    validate_phone,
)
from unionfunds.core.uploads import display_file_name

from . import permissions
from .choices import Gender, RegionLevel, Role, UnionStatus, WorkerGroup
from .clients import SCOPES
from .models import ApiClient, Member, Region, Union, User
from .roster import RosterRow, choices_text, parse_roster
from .workflows import UNION_WORKFLOW

Application, AccessToken, RefreshToken = get_application_model(), get_access_token_model(), get_refresh_token_model()

UNION_FIELDS = [
    "name",
    "credit_code",
    "org_form",
    "county",
    "parent_level",
    "covered_groups",
    "chair_name",
    "chair_elected_on",
    "chair_term_years",
    "committee_size",
    "founded_on",
    "funds_hard_to_guarantee",
    "bank_name",
    "bank_account",
    "contact_name",
    "contact_phone",
]
# What a union officer may change of their own union; identity and county stay with the county.
OFFICER_EDITABLE = set(UNION_FIELDS) - {"credit_code", "county", "parent_level"}
# Recorded in the audit trail; account and phone numbers only masked.
UNION_AUDIT_FIELDS = [f for f in UNION_FIELDS if f not in ("bank_account", "contact_phone")] + ["status"]
MEMBER_AUDIT_FIELDS = ["name", "id_number_masked", "gender", "group", "platform", "joined_on", "left_on"]


def _in_scope(model, pk, by: User, *, lock: bool = False):
    """The object if ``by`` may see it, else Http404: services check scope themselves, whoever calls."""
    qs = model.objects.for_user(by)
    if lock:
        qs = qs.select_for_update(of=("self",))
    try:
        return qs.get(pk=pk)
    except model.DoesNotExist:
        raise Http404(_("%(object)s %(pk)s 不存在。") % {"object": model._meta.verbose_name, "pk": pk}) from None


def _union_audit(union: Union) -> dict:
    data = snapshot(union, UNION_AUDIT_FIELDS)
    data["bank_account"] = union.bank_account_masked
    data["contact_phone"] = union.contact_phone_masked
    return data


# ---------------------------------------------------------------- unions


def _resolve_county(value: Any, *, by: User) -> Region:
    code = value.code if isinstance(value, Region) else str(value or "").strip()
    county = Region.objects.for_user(by).counties().filter(code=code).first()
    if county is None:
        raise ValidationError({"county": _("县（市、区）「%(code)s」不存在或不在您的管辖范围内。") % {"code": code}})
    return county


def _clean_groups(groups: Iterable[str] | str) -> str:
    if isinstance(groups, str):
        groups = [g for g in groups.replace("，", ",").split(",") if g.strip()]
    groups = [g.strip() for g in groups]
    unknown = [g for g in groups if g not in WorkerGroup.values]
    if unknown:
        raise ValidationError(
            {
                "covered_groups": _("未知的群体代码：%(codes)s。")
                % {"codes": pgettext("list separator", "、").join(unknown)}
            }
        )
    return Union.encode_groups(groups)


def _apply_union_fields(union: Union, data: Mapping[str, Any], *, by: User) -> None:
    errors: dict[str, str] = {}
    for name, value in data.items():
        if name not in UNION_FIELDS:
            continue
        try:
            if name == "credit_code":
                value = validate_credit_code(value)
            elif name == "county":
                value = _resolve_county(value, by=by)
            elif name == "covered_groups":
                value = _clean_groups(value)
            elif name == "contact_phone" and value:
                value = validate_contact_phone(value)
            elif name in ("chair_elected_on", "founded_on") and value:
                value = check_date(value, name, past=True)
        except ValidationError as exc:
            errors[name] = exc.message_dict.get(name, exc.messages) if hasattr(exc, "error_dict") else exc.messages
            continue
        setattr(union, name, value)
    if errors:
        raise ValidationError(errors)


def _save_union(union: Union) -> None:
    union.full_clean()
    try:
        with transaction.atomic():
            union.save()
    except IntegrityError:
        # The unique constraint caught a concurrent registration of the same code.
        raise ValidationError({"credit_code": _("该统一社会信用代码已被登记。")}) from None


def _check_credit_code_free(union: Union) -> None:
    other = Union.objects.filter(credit_code=union.credit_code).exclude(pk=union.pk).first()
    if other is not None:
        raise ValidationError({"credit_code": _("该统一社会信用代码已被「%(union)s」登记。") % {"union": other.name}})


@transaction.atomic
def union_register(*, data: Mapping[str, Any], by: User) -> Union:
    enforce(permissions.can_register_union(by))
    union = Union(status=UnionStatus.PENDING)
    _apply_union_fields(union, data, by=by)
    _check_credit_code_free(union)
    _save_union(union)
    audit_record(action="union.register", obj=union, by=by, after=_union_audit(union))
    return union


@transaction.atomic
def union_update(*, union: Union, data: Mapping[str, Any], by: User) -> Union:
    union = _in_scope(Union, union.pk, by, lock=True)
    enforce(permissions.can_edit_union(by, union))
    if by.role == Role.UNION_OFFICER:
        locked = sorted(set(data) & (set(UNION_FIELDS) - OFFICER_EDITABLE))
        if locked:
            raise ValidationError({name: _("请联系所在县（市、区）总工会修改此项。") for name in locked})
    before = _union_audit(union)
    _apply_union_fields(union, data, by=by)
    _check_credit_code_free(union)
    _save_union(union)
    after = _union_audit(union)
    if after != before:
        audit_record(action="union.update", obj=union, by=by, before=before, after=after)
    return union


@transaction.atomic
def union_transition(*, union: Union, action: str, by: User, comment: str = "") -> Union:
    """verify / suspend / reinstate / dissolve, as the union workflow table allows."""
    union = _in_scope(Union, union.pk, by, lock=True)
    before = union.status
    union.status = UNION_WORKFLOW.apply(union.status, action, by.role)
    if action == "verify":
        union.verified_at = timezone.now()
    union.save(update_fields=["status", "verified_at", "updated_at"])
    audit_record(
        action=f"union.{action}",
        obj=union,
        by=by,
        before={"status": before},
        after={"status": union.status, "comment": comment},
    )
    return union


def union_verify(*, union: Union, by: User, comment: str = "") -> Union:
    return union_transition(union=union, action="verify", by=by, comment=comment)


# ---------------------------------------------------------------- members


def hash_id_number(number: str) -> str:
    return id_number_digest(number, settings.ID_HASH_KEY)


def _active_elsewhere(hashes: Iterable[str], union: Union) -> dict[str, tuple[int, str]]:
    """ID hash -> (id, name) of the other union where that person is an active member."""
    found: dict[str, tuple[int, str]] = {}
    hashes = list(hashes)
    for start in range(0, len(hashes), 900):  # within SQLite's parameter limit; larger chunks were no faster
        rows = (
            Member.objects.active()
            .filter(id_number_hash__in=hashes[start : start + 900])
            .exclude(union=union)
            .values_list("id_number_hash", "union_id", "union__name")
        )
        found.update((digest, (union_id, name)) for digest, union_id, name in rows)
    return found


def _unions_seen_by(by: User, others: Iterable[tuple[int, str]]) -> set[int]:
    return set(Union.objects.for_user(by).filter(pk__in={pk for pk, _name in others}).values_list("pk", flat=True))


def _elsewhere_message(other: tuple[int, str] | None, *, seen: set[int]) -> str:
    """The refusal for a person active in another union. It names that union only to a user who can see
    it (``seen``: ids from ``_unions_seen_by``); to anyone else a name would tell where anyone in the
    province is a member."""
    if other is not None and other[0] in seen:
        return _("此人已是「%(union)s」的在册会员，一人只能在全省一个工会在册；请先在原工会办理离会。") % {
            "union": other[1]
        }
    return _("此人已是省内其他工会的在册会员，一人只能在全省一个工会在册；请联系所在县（市、区）总工会核实。")


def _elsewhere_refusal(field: str, digest: str, union: Union, by: User, *, always: bool = False):
    """The ValidationError on ``field`` if the person of ``digest`` is active in another union than
    ``union``, else None. ``always``: the database already refused (a concurrent write beat the check),
    so there is a refusal even if the other membership cannot be read back now."""
    other = _active_elsewhere([digest], union).get(digest)
    if other is None and not always:
        return None
    return ValidationError({field: _elsewhere_message(other, seen=_unions_seen_by(by, [other] if other else []))})


# Looked up once per row of a 100,000-row roster: as sets, not the enums' lists built on every access.
GENDER_CODES = frozenset(Gender.values)
GROUP_CODES = frozenset(WorkerGroup.values)


def _member_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the person's fields of the REST contract in README; raises ValidationError naming each bad field."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = _("请填写姓名。")
    out["name"] = name
    if "id_number" in data:
        try:
            number = validate_id_number(str(data.get("id_number") or ""))
            out["id_number_hash"] = hash_id_number(number)
            out["id_number_masked"] = mask_id_number(number)
            derived = gender_from_id_number(number)
            gender = data.get("gender") or derived
            if gender not in GENDER_CODES:
                errors["gender"] = _("性别应为 M（男）或 F（女）。")
            elif gender != derived:
                errors["gender"] = _("性别与身份证号第 17 位不符。")
            out["gender"] = gender
        except ValidationError as exc:
            errors["id_number"] = exc.messages[0]
    elif data.get("gender"):
        if data["gender"] not in GENDER_CODES:
            errors["gender"] = _("性别应为 M（男）或 F（女）。")
        out["gender"] = data["gender"]
    phone = str(data.get("phone") or "").strip()
    if phone:
        try:
            phone = validate_phone(phone)
        except ValidationError as exc:
            errors["phone"] = exc.messages[0]
    out["phone"] = phone
    group = data.get("group")
    if group not in GROUP_CODES:
        errors["group"] = _("未知的群体「%(group)s」，可选：%(choices)s。") % {
            "group": mask_personal_text(str(group)),
            "choices": choices_text(WorkerGroup.choices),
        }
    out["group"] = group
    out["platform"] = str(data.get("platform") or "").strip()[:100]
    joined_on = data.get("joined_on")
    if not isinstance(joined_on, dt.date):
        errors["joined_on"] = _("请填写入会日期。")
    elif error := date_error(joined_on, past=True, future_message=_("入会日期不能晚于今天。")):
        errors["joined_on"] = error
    out["joined_on"] = joined_on
    if "left_on" in data:
        left_on = data.get("left_on")
        if left_on and (error := date_error(left_on, past=True, future_message=_("离会日期不能晚于今天。"))):
            errors["left_on"] = error
        elif left_on and isinstance(joined_on, dt.date) and left_on < joined_on:
            errors["left_on"] = _("离会日期不能早于入会日期。")
        out["left_on"] = left_on or None
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def member_add(*, union: Union, data: Mapping[str, Any], by: User) -> Member:
    union = _in_scope(Union, union.pk, by, lock=True)  # lock order: union, then member (as roster_import)
    enforce(permissions.can_manage_roster(by, union))
    if "id_number" not in data:
        raise ValidationError({"id_number": _("请填写身份证号。")})
    fields = _member_fields({**data, "left_on": None})
    if refusal := _elsewhere_refusal("id_number", fields["id_number_hash"], union, by):
        raise refusal
    member = Member.objects.select_for_update().filter(union=union, id_number_hash=fields["id_number_hash"]).first()
    if member is not None and member.is_active:
        raise ValidationError({"id_number": _("此人已在本工会名册中。")})
    action = "member.rejoin" if member is not None else "member.add"
    before = snapshot(member, MEMBER_AUDIT_FIELDS) if member else None
    member = member or Member(union=union)
    for name, value in fields.items():
        setattr(member, name, value)
    member.full_clean(exclude=["id_number_hash"])
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError:
        # A concurrent request made the person active elsewhere after our check.
        raise _elsewhere_refusal("id_number", fields["id_number_hash"], union, by, always=True) from None
    Union.objects.filter(pk=union.pk).refresh_member_counts()
    audit_record(action=action, obj=member, by=by, before=before, after=snapshot(member, MEMBER_AUDIT_FIELDS))
    return member


@transaction.atomic
def member_update(*, member: Member, data: Mapping[str, Any], by: User) -> Member:
    """Change a member's details or record that they left (``left_on``). The ID number is fixed."""
    union_id = _in_scope(Member, member.pk, by).union_id
    Union.objects.select_for_update().filter(pk=union_id).first()  # lock order: union, then member
    member = _in_scope(Member, member.pk, by, lock=True)
    enforce(permissions.can_manage_roster(by, member.union))
    if "id_number" in data:
        raise ValidationError({"id_number": _("身份证号不能修改；如有误请办理离会后重新录入。")})
    if data.get("gender") and data["gender"] != member.gender:
        # The gender came from the ID number at entry; the number is not kept, so it cannot be re-checked.
        raise ValidationError({"gender": _("性别由身份证号第 17 位决定，不能修改；如有误请办理离会后重新录入。")})
    current = {
        "name": member.name,
        "gender": member.gender,
        "phone": member.phone,
        "group": member.group,
        "platform": member.platform,
        "joined_on": member.joined_on,
        "left_on": member.left_on,
    }
    fields = _member_fields({**current, **data})
    if member.left_on and fields.get("left_on") is None:
        if refusal := _elsewhere_refusal("left_on", member.id_number_hash, member.union, by):
            raise refusal
    before = snapshot(member, MEMBER_AUDIT_FIELDS)
    for name, value in fields.items():
        setattr(member, name, value)
    member.full_clean(exclude=["id_number_hash"])
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError:
        # Someone made the person active in another union between the check above and this save.
        raise _elsewhere_refusal("left_on", member.id_number_hash, member.union, by, always=True) from None
    after = snapshot(member, MEMBER_AUDIT_FIELDS)
    if after != before:
        Union.objects.filter(pk=member.union_id).refresh_member_counts()
        audit_record(action="member.update", obj=member, by=by, before=before, after=after)
    return member


@dataclass
class RosterImportResult:
    created: int = 0
    updated: int = 0
    errors: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "errors": self.errors}


ROSTER_COMPARED = ["name", "gender", "phone", "group", "platform", "joined_on"]
ROSTER_NEW = ["name", "id_number_hash", "id_number_masked", "gender", "phone", "group", "platform", "joined_on"]


@transaction.atomic
def roster_import(*, union: Union, filename: str, content: bytes, by: User) -> RosterImportResult:
    """Import a roster file all-or-nothing; re-importing the same file changes nothing.

    Rows are matched to the union's existing members by ID number (upsert). A member who has left
    keeps their ``left_on``: a roster file records who joined, not who came back.
    """
    union = _in_scope(Union, union.pk, by, lock=True)
    enforce(permissions.can_manage_roster(by, union))
    parsed = parse_roster(filename, content)
    result = RosterImportResult(errors=list(parsed.errors))
    rows: list[tuple[RosterRow, dict]] = []
    first_seen: dict[str, int] = {}
    for row in parsed.rows:
        try:
            fields = _member_fields(row.values)
        except ValidationError as exc:
            for column, messages in exc.message_dict.items():
                result.errors.append(
                    {"row": row.number, "column": row.columns.get(column, column), "message": messages[0]}
                )
            continue
        digest = fields["id_number_hash"]
        if digest in first_seen:
            result.errors.append(
                {
                    "row": row.number,
                    "column": row.columns["id_number"],
                    "message": _("与第 %(row)d 行是同一身份证号。") % {"row": first_seen[digest]},
                }
            )
            continue
        first_seen[digest] = row.number
        rows.append((row, fields))

    elsewhere = _active_elsewhere(first_seen, union)
    seen = _unions_seen_by(by, elsewhere.values())
    for row, fields in rows:
        other = elsewhere.get(fields["id_number_hash"])
        if other:
            result.errors.append(
                {"row": row.number, "column": row.columns["id_number"], "message": _elsewhere_message(other, seen=seen)}
            )
    if not parsed.rows and not result.errors:
        result.errors.append({"row": 1, "column": "", "message": _("文件中没有会员数据行。")})
    if result.errors:
        # Headers and cells come back in the errors: whatever ID or phone number they hold, masked.
        result.errors = sorted(
            (
                {
                    "row": e["row"],
                    "column": mask_personal_text(str(e["column"])),
                    "message": mask_personal_text(e["message"]),
                }
                for e in result.errors
            ),
            key=lambda e: (e["row"], e["column"]),
        )
        return result

    existing = {m.id_number_hash: m for m in Member.objects.select_for_update().filter(union=union)}
    to_create: list[tuple] = []
    to_update: list[Member] = []
    now = timezone.now()
    for _row, fields in rows:
        member = existing.get(fields["id_number_hash"])
        if member is None:
            to_create.append((union.pk, *(fields[name] for name in ROSTER_NEW), now, now))
            continue
        changed = False
        for name in ROSTER_COMPARED:
            if getattr(member, name) != fields[name]:
                setattr(member, name, fields[name])
                changed = True
        if changed:
            member.updated_at = now
            to_update.append(member)
    try:
        with transaction.atomic():
            # Rows validated above, written in bulk (COPY on PostgreSQL): a 100,000-row file in seconds.
            insert_rows(Member, ["union_id", *ROSTER_NEW, "created_at", "updated_at"], to_create)
            if to_update:
                Member.objects.bulk_update(to_update, [*ROSTER_COMPARED, "updated_at"], batch_size=1000)
    except IntegrityError:
        raise ApplicationError("roster_conflict", _("导入期间有会员在其他工会登记，名册未导入；请重新导入。")) from None
    result.created, result.updated = len(to_create), len(to_update)
    if result.created:  # an update never changes who is active (left_on is not a roster column)
        Union.objects.filter(pk=union.pk).refresh_member_counts()
    if not (result.created or result.updated):
        return result  # nothing changed, nothing to record (as for any other write that changes nothing)
    audit_record(
        action="member.import",
        obj=union,
        by=by,
        after={
            "file": display_file_name(filename),
            "sha256": hashlib.sha256(content).hexdigest(),
            "rows": len(rows),
            "created": result.created,
            "updated": result.updated,
        },
    )
    return result


# ---------------------------------------------------------------- regions

REGIONS_CSV = settings.BASE_DIR / "members" / "data" / "zhejiang_divisions.csv"


@transaction.atomic
def regions_load(*, by: User | None = None, path=REGIONS_CSV) -> tuple[int, int]:
    """Load the 102 regions (1 + 11 + 90) of GB/T 2260 shipped with the project; idempotent.

    Returns (created, updated).
    """
    import csv

    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    order = {RegionLevel.PROVINCE: 0, RegionLevel.CITY: 1, RegionLevel.COUNTY: 2}
    rows.sort(key=lambda r: (order[r["level"]], r["code"]))
    names = {r["code"]: r["name"] for r in rows}
    created = updated = 0
    for row in rows:
        # Districts (区) carry their city in the federation's name: 杭州市西湖区总工会.
        prefix = names[row["parent_code"]] if row["level"] == RegionLevel.COUNTY and row["name"].endswith("区") else ""
        values = {
            "name": row["name"],
            "level": row["level"],
            "parent_id": row["parent_code"] or None,
            "federation_name": f"{prefix}{row['name']}总工会",
        }
        region = Region.objects.filter(code=row["code"]).first()
        if region is None:
            Region.objects.create(code=row["code"], **values)
            created += 1
        elif any(getattr(region, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(region, key, value)
            region.save()
            updated += 1
    if created or updated:
        root = Region.objects.get(level=RegionLevel.PROVINCE)
        audit_record(action="region.load", obj=root, by=by, after={"created": created, "updated": updated})
    return created, updated


# ---------------------------------------------------------------- accounts


@transaction.atomic
def user_create(
    *,
    username: str,
    role: str,
    password: str,
    region_code: str | None = None,
    union_id: int | None = None,
    by: User | None = None,
) -> User:
    """Create an account with one role and one home (docs/rules.md §1). ``by`` is None for the command line."""
    if role not in Role.values:
        raise ValidationError(
            {"role": _("未知角色「%(role)s」，可选：%(choices)s。") % {"role": role, "choices": ", ".join(Role.values)}}
        )
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": _("账号「%(username)s」已存在。") % {"username": username}})
    user = User(username=username, role=role)
    if role == Role.UNION_OFFICER:
        if union_id is None or region_code:
            raise ValidationError({"union": _("基层工会账号须用 --union 指定工会，不能指定区划。")})
        user.union = Union.objects.filter(pk=union_id).first()
        if user.union is None:
            raise ValidationError({"union": _("工会 %(id)s 不存在。") % {"id": union_id}})
    else:
        if not region_code or union_id is not None:
            raise ValidationError({"region": _("此角色须用 --region 指定区划代码，不能指定工会。")})
        user.region = Region.objects.filter(code=region_code).first()
        if user.region is None:
            raise ValidationError(
                {"region": _("区划代码 %(code)s 不存在（先运行 load_regions）。") % {"code": region_code}}
            )
        expected = {
            Role.PROVINCE_STAFF: {RegionLevel.PROVINCE},
            Role.CITY_STAFF: {RegionLevel.CITY},
            Role.COUNTY_STAFF: {RegionLevel.COUNTY},
            Role.AUDITOR: set(RegionLevel.values),
        }[role]
        if user.region.level not in expected:
            raise ValidationError(
                {
                    "region": _("角色 %(role)s 不能属于%(level)s级区划。")
                    % {"role": role, "level": user.region.get_level_display()}
                }
            )
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    audit_record(action="user.create", obj=user, by=by, after={"role": role, "home": region_code or union_id})
    return user


@transaction.atomic
def union_account_open(*, union: Union, username: str, password: str, by: User) -> User:
    """A union officer's account, opened by the union's county staff with an initial password."""
    union = _in_scope(Union, union.pk, by)
    enforce(permissions.can_open_union_account(by, union))
    return user_create(username=username, role=Role.UNION_OFFICER, password=password, union_id=union.pk, by=by)


def _password_set(user: User, password: str, *, action: str, by: User | None) -> None:
    """The one place an existing account's password changes: the password rules, the new hash, the account's
    API tokens revoked (a token that leaked with the old password must not outlive it), the audit trail."""
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    revoked, _by_model = Token.objects.filter(user=user).delete()
    audit_record(action=action, obj=user, by=by, after={"api_tokens_revoked": revoked})


@transaction.atomic
def password_change(*, user: User, password: str, by: User) -> User:
    """Set a user's own new password (the form has checked the old one and the validators)."""
    if by.pk != user.pk:
        raise PermissionDenied(_("只能修改自己的密码。"))
    _password_set(user, password, action="user.password_change", by=by)
    return user


@transaction.atomic
def password_reset(*, user: User, password: str, by: User | None = None) -> User:
    """An administrator sets someone's password on the server (``manage.py changepassword``): the command
    line only, like ``user_create`` without ``by``; there is no page for it."""
    if by is not None:
        raise PermissionDenied(_("只能修改自己的密码。"))
    _password_set(user, password, action="user.password_reset", by=None)
    return user


@transaction.atomic
def account_unlock(*, username: str, by: User) -> int:
    """Clear the failed logins that locked an account (django-axes), for an account in the user's scope."""
    enforce(permissions.can_unlock_accounts(by))
    target = User.objects.for_user(by).filter(username=username).first()
    if target is None:
        raise Http404(_("账号「%(name)s」不存在或不在您的管辖范围内。") % {"name": username})
    attempts = AccessAttempt.objects.filter(username=username)
    count = attempts.count()
    attempts.delete()
    audit_record(action="user.unlock", obj=target, by=by, after={"attempts_cleared": count})
    return count


# ---------------------------------------------------------------- second factor


@transaction.atomic
def otp_enrol(*, user: User, secret: str, code: str, by: User) -> list[str]:
    """Bind the user's own authenticator app (``secret``, confirmed by a first ``code``) and return ten new
    one-time recovery codes, to be shown once. Replaces any earlier device and recovery codes."""
    if by.pk != user.pk:
        raise PermissionDenied(_("只能为自己的账号启用两步验证。"))
    step = otp.code_matches(secret, code)
    if step is None:
        raise ValidationError({"code": _("验证码不正确或已过期，请输入验证器当前显示的 6 位数字。")})
    replaced = otp.has_device(user)
    # The confirming code counts as used: it cannot be replayed at the next login.
    codes = otp.install(user, secret, last_t=step)
    audit_record(action="user.otp_enrol", obj=user, by=by, after={"replaced": replaced, "recovery_codes": len(codes)})
    return codes


@transaction.atomic
def otp_device_set(*, user: User, secret: str, by: User | None = None) -> None:
    """Give an account a confirmed TOTP device with a known secret (``add_user --totp-secret``, demo data)."""
    try:
        otp.secret_key(secret)
    except ValueError:
        raise ValidationError(
            {"totp_secret": _("TOTP 密钥应为 Base32 编码（字母 A–Z 和数字 2–7），至少 16 个字符。")}
        ) from None
    otp.install(user, secret, recovery=False)
    audit_record(action="user.otp_enrol", obj=user, by=by, after={"replaced": False, "recovery_codes": 0})


@transaction.atomic
def otp_reset(*, username: str, by: User) -> int:
    """Delete every TOTP device and recovery code of an account in the user's scope (a lost or replaced
    phone). Its owner enrols again at the next login if their role requires it. Returns the devices deleted."""
    enforce(permissions.can_reset_two_factor(by))
    target = User.objects.for_user(by).filter(username=username).first()
    if target is None:
        raise Http404(_("账号「%(name)s」不存在或不在您的管辖范围内。") % {"name": username})
    if not otp.has_device(target):
        raise ApplicationError("no_device", _("账号「%(name)s」没有绑定验证器，无需重置。") % {"name": target.username})
    deleted = otp.remove(target)
    audit_record(action="user.otp_reset", obj=target, by=by, after={"devices_deleted": deleted})
    return deleted


# ---------------------------------------------------------------- outside systems


@transaction.atomic
def api_client_register(*, name: str, region_code: str, scopes: Iterable[str], by: User | None) -> tuple:
    """Register an outside system: an OAuth2 client (client credentials) bound to a new service account
    (auditor of ``region_code``, no usable password). Returns (client, secret); the secret is stored only
    hashed, so this is the one time anyone sees it. ``by`` is None for the command line."""
    if by is not None:
        enforce(permissions.can_manage_api_clients(by))
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _("请填写系统名称。")
    elif ApiClient.objects.filter(name=name).exists():
        errors["name"] = _("已有名为「%(name)s」的外部系统。") % {"name": name}
    regions = Region.objects.for_user(by) if by is not None else Region.objects.all()
    region = regions.filter(code=region_code).first()
    if region is None:
        errors["region"] = _("区划代码 %(code)s 不存在（先运行 load_regions）。") % {"code": region_code}
    scopes = sorted(set(scopes or []))
    unknown = [s for s in scopes if s not in SCOPES]
    if not scopes:
        errors["scopes"] = _("请至少选择一项权限范围。")
    elif unknown:
        errors["scopes"] = _("未知的权限范围「%(scope)s」，可选：%(choices)s。") % {
            "scope": "、".join(unknown),
            "choices": "、".join(SCOPES),
        }
    if errors:
        raise ValidationError(errors)
    secret = generate_client_secret()
    application = Application(
        name=name[:255],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
        hash_client_secret=True,
    )
    account = User(username=f"api-{application.client_id[:12].lower()}", role=Role.AUDITOR, region=region)
    account.set_unusable_password()  # nobody logs in as a client; it only holds the client's scope
    account.full_clean(exclude=["password"])
    account.save()
    application.user = account
    application.save()
    client = ApiClient.objects.create(
        name=name, application=application, account=account, scopes=" ".join(scopes), created_by=by
    )
    audit_record(
        action="api_client.register",
        obj=client,
        by=by,
        after={
            "client_id": application.client_id,
            "region": region.code,
            "scopes": scopes,
            "account": account.username,
        },
    )
    return client, secret


@transaction.atomic
def api_client_revoke(*, client: ApiClient, by: User | None) -> int:
    """Stop an outside system at once: delete its tokens, replace its secret by one nobody knows, deactivate
    its service account. Returns the number of access tokens that stopped working."""
    if by is not None:
        enforce(permissions.can_manage_api_clients(by))
    client = ApiClient.objects.select_for_update().select_related("application", "account").get(pk=client.pk)
    if not client.is_active:
        raise ApplicationError("already_revoked", _("外部系统「%(name)s」已停用。") % {"name": client.name})
    RefreshToken.objects.filter(application=client.application).delete()
    access = AccessToken.objects.filter(application=client.application)
    tokens = access.count()
    access.delete()
    client.application.client_secret = generate_client_secret()
    client.application.save()
    client.account.is_active = False
    client.account.save(update_fields=["is_active"])
    client.revoked_at = timezone.now()
    client.save(update_fields=["revoked_at"])
    audit_record(action="api_client.revoke", obj=client, by=by, after={"tokens_revoked": tokens})
    return tokens
