"""The satisfaction survey: a union's public link, members' answers on the public page, and paper answers
typed in or imported by the county."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from members.models import Union, User
from unionfunds.core.audit import audit_record
from unionfunds.core.decisions import enforce
from unionfunds.core.errors import ApplicationError
from unionfunds.core.identifiers import mask_personal_text
from unionfunds.core.scoping import get_in_scope
from unionfunds.core.tables import TableError, cell_text, read_table
from unionfunds.core.uploads import too_large_message

from .. import permissions, selectors
from ..choices import ANSWER_SCORES, Answer, ResponseSource
from ..models import EvaluationRound, SurveyInvite, SurveyResponse

# Answers one paper entry, import or API request may carry: a county types in a union's stack of forms at a
# time, a few hundred at most; a bound keeps one request from tying up a worker (docs/guide).
SURVEY_ENTRY_MAX = 2000
# Refusals given in more than one place (services, the survey page), in one wording.
COOKIES_NEEDED = gettext_lazy("请允许浏览器保存 Cookie 后再提交。")
ALREADY_ANSWERED = gettext_lazy("您已经提交过本次调查，感谢参与！")
SURVEY_COLUMNS = {
    "credit_code": ("credit_code", "统一社会信用代码", "工会统一社会信用代码"),
    "answer": ("answer", "满意度", "满意程度"),
    "comment": ("comment", "意见建议", "意见"),
}


@transaction.atomic
def survey_invite(*, round_: EvaluationRound, union: Union, by: User) -> SurveyInvite:
    """The public survey link of a subsidised union (created on first request, audited then)."""
    get_in_scope(Union.objects.for_user(by), union.pk)
    enforce(permissions.can_create_survey_invite(by, union))
    if union.pk not in selectors.subsidised_union_ids(round_):
        raise ValidationError({"union": _("该工会未获本项目补助，不需要满意度调查。")})
    invite, created = SurveyInvite.objects.get_or_create(round=round_, union=union)
    if created:
        audit_record(
            action="evaluation.survey_invite", obj=invite, by=by, after={"round": round_.pk, "union": union.pk}
        )
    return invite


def device_digest(device_token: str) -> str:
    """What is kept of a device's cookie: enough to tell a second answer from it, nothing to trace it by."""
    return hashlib.sha256(f"{settings.SECRET_KEY}:{device_token}".encode()).hexdigest()


@transaction.atomic
def survey_answer_public(*, token: str, answer: str, comment: str, device_token: str) -> SurveyResponse:
    """A member answers on the public page; one answer per device, union and round."""
    invite = SurveyInvite.objects.select_related("round", "union").filter(token=token).first()
    if invite is None:
        raise Http404
    if answer not in Answer.values:
        raise ValidationError({"answer": _("请选择满意程度。")})
    if not device_token:
        raise ValidationError({"answer": str(COOKIES_NEEDED)})
    digest = device_digest(device_token)
    if selectors.answered_from_device(invite, digest):
        raise ApplicationError("already_answered", str(ALREADY_ANSWERED))
    try:
        with transaction.atomic():
            response = SurveyResponse.objects.create(
                round=invite.round,
                union=invite.union,
                answer=answer,
                score=int(ANSWER_SCORES[answer]),
                comment=(comment or "").strip()[:500],
                source=ResponseSource.WEB,
                device=digest,
            )
    except IntegrityError:
        raise ApplicationError("already_answered", str(ALREADY_ANSWERED)) from None
    return response


def survey_batch_check(count: int, field: str = "responses") -> None:
    """Refuse a batch of more than ``SURVEY_ENTRY_MAX`` answers as a whole, naming ``field``."""
    if count > SURVEY_ENTRY_MAX:
        raise ValidationError(
            {
                field: ngettext(
                    "一次最多录入 %(max)d 份答卷，本次有 %(n)d 份，请分批录入。",
                    "一次最多录入 %(max)d 份答卷，本次有 %(n)d 份，请分批录入。",
                    count,
                )
                % {"max": SURVEY_ENTRY_MAX, "n": count}
            }
        )


@transaction.atomic
def survey_responses_enter(
    *,
    round_: EvaluationRound,
    rows: Sequence[Mapping[str, Any]],
    by: User,
    source: str = ResponseSource.PAPER,
    row_names: Sequence[str] | None = None,
) -> list[SurveyResponse]:
    """Paper answers typed in by county staff (or imported): all rows or none, errors by row index."""
    enforce(permissions.can_enter_survey_answers(by))
    if not rows:
        raise ValidationError({"responses": _("没有答卷。")})
    survey_batch_check(len(rows))
    in_scope = set(Union.objects.for_user(by).values_list("pk", flat=True))
    subsidised = selectors.subsidised_union_ids(round_)
    errors: dict[str, str] = {}

    def name(index: int) -> str:  # how a row is called in messages: 第 3 条 (a list) or 第 5 行 (a sheet)
        return row_names[index] if row_names else _("第 %(n)d 条") % {"n": index + 1}

    objects = []
    for index, row in enumerate(rows):
        try:
            union_id = int(row.get("union"))
        except (TypeError, ValueError):
            errors[f"{index}.union"] = _("%(row)s：工会编号无效。") % {"row": name(index)}
            continue
        answer = row.get("answer")
        if union_id not in in_scope:
            errors[f"{index}.union"] = _("%(row)s：工会 %(union)s 不存在或不在您的管辖范围内。") % {
                "row": name(index),
                "union": union_id,
            }
        elif union_id not in subsidised:
            errors[f"{index}.union"] = _("%(row)s：工会 %(union)s 未获本项目补助。") % {
                "row": name(index),
                "union": union_id,
            }
        if answer not in Answer.values:
            errors[f"{index}.answer"] = _("%(row)s：满意度「%(answer)s」应为 %(choices)s 之一。") % {
                "row": name(index),
                "answer": mask_personal_text(str(answer)),
                "choices": pgettext("list separator", "、").join(Answer.values),
            }
        if f"{index}.union" in errors or f"{index}.answer" in errors:
            continue
        objects.append(
            SurveyResponse(
                round=round_,
                union_id=union_id,
                answer=answer,
                score=int(ANSWER_SCORES[answer]),
                comment=str(row.get("comment") or "")[:500],
                source=source,
                entered_by=by,
            )
        )
    if errors:
        raise ValidationError(errors)
    created = SurveyResponse.objects.bulk_create(objects)
    audit_record(
        action="evaluation.survey_enter",
        obj=round_,
        by=by,
        after={"count": len(created), "source": source, "unions": sorted({o.union_id for o in objects})},
    )
    return created


def _sheet_row(number: int) -> str:
    """How a row of an imported spreadsheet is named in messages: the number the spreadsheet shows."""
    return _("第 %(n)d 行") % {"n": number}


@transaction.atomic
def survey_import(*, round_: EvaluationRound, filename: str, content: bytes, by: User) -> list[SurveyResponse]:
    """Paper answers from a spreadsheet: one row per answer, the union by its credit code, the answer as
    a code or its Chinese label. All rows or none; errors name the spreadsheet row."""
    enforce(permissions.can_enter_survey_answers(by))  # before the file is read: refusing costs nothing
    if len(content) > settings.UPLOAD_MAX_BYTES:
        raise ValidationError({"file": too_large_message()})
    try:
        table = read_table(content)
    except TableError as exc:
        raise ValidationError({"file": str(exc)}) from None
    if not table:
        raise ValidationError({"file": _("文件中没有表头行。")})
    header = [cell_text(c) for c in table[0][1]]
    index = {}
    for code, names in SURVEY_COLUMNS.items():
        for position, name in enumerate(header):
            if name in names:
                index[code] = position
    missing = [SURVEY_COLUMNS[c][1] for c in ("credit_code", "answer") if c not in index]
    if missing:
        raise ValidationError(
            {"file": _("缺少必填列：%(columns)s。") % {"columns": pgettext("list separator", "、").join(missing)}}
        )
    survey_batch_check(sum(1 for cells in table[1:] if any(cell_text(c) for c in cells)), field="file")
    labels = {str(a.label): a.value for a in Answer} | {a.value: a.value for a in Answer}
    codes = {cell_text(r[index["credit_code"]]).upper() for _n, r in table[1:] if len(r) > index["credit_code"]}
    union_ids = dict(Union.objects.for_user(by).filter(credit_code__in=codes).values_list("credit_code", "pk"))
    rows, numbers, errors = [], [], {}
    for number, cells in table[1:]:

        def cell(code, cells=cells):
            position = index.get(code)
            return cell_text(cells[position]) if position is not None and position < len(cells) else ""

        union_id = union_ids.get(cell("credit_code").upper())
        if union_id is None:
            errors[f"row {number}"] = _("%(row)s：统一社会信用代码「%(code)s」不是您管辖范围内的工会。") % {
                "row": _sheet_row(number),
                "code": mask_personal_text(cell("credit_code")),
            }
            continue
        rows.append(
            {"union": union_id, "answer": labels.get(cell("answer"), cell("answer")), "comment": cell("comment")}
        )
        numbers.append(number)
    if errors:
        raise ValidationError(errors)
    return survey_responses_enter(
        round_=round_, rows=rows, by=by, source=ResponseSource.IMPORT, row_names=[_sheet_row(n) for n in numbers]
    )
