"""Every write of the evaluation app, one module per aggregate: rounds, the survey, self-assessments and
their review, the province's spot-check, report requests. Each checks role (``permissions``) and scope,
validates, writes and audits in one transaction. ``from evaluation import services; services.X`` reaches
every public function and constant of the modules below."""

from ..permissions import CHECK_CLOSED
from ..selectors import counties_under, subsidised_union_ids
from .assessments import (
    ASSESSMENT_SERVICES,
    assessment_approve,
    assessment_return,
    assessment_submit,
    city_summary_complete,
    evidence_add,
)
from .report_jobs import REPORT_GRACE, report_request
from .rounds import DEFAULT_WEIGHTS, round_create
from .spot_checks import (
    COUNT_OR_RATIO,
    FLAG_DIFFERENCE,
    MAX_SEED,
    draw_sample,
    spot_check_draw,
    spot_check_send_back,
    spot_check_verify,
)
from .surveys import (
    ALREADY_ANSWERED,
    COOKIES_NEEDED,
    SURVEY_COLUMNS,
    SURVEY_ENTRY_MAX,
    device_digest,
    survey_answer_public,
    survey_batch_check,
    survey_import,
    survey_invite,
    survey_responses_enter,
)

__all__ = [
    "ALREADY_ANSWERED",
    "ASSESSMENT_SERVICES",
    "CHECK_CLOSED",
    "COOKIES_NEEDED",
    "COUNT_OR_RATIO",
    "DEFAULT_WEIGHTS",
    "FLAG_DIFFERENCE",
    "MAX_SEED",
    "REPORT_GRACE",
    "SURVEY_COLUMNS",
    "SURVEY_ENTRY_MAX",
    "assessment_approve",
    "assessment_return",
    "assessment_submit",
    "city_summary_complete",
    "counties_under",
    "device_digest",
    "draw_sample",
    "evidence_add",
    "report_request",
    "round_create",
    "spot_check_draw",
    "spot_check_send_back",
    "spot_check_verify",
    "subsidised_union_ids",
    "survey_answer_public",
    "survey_batch_check",
    "survey_import",
    "survey_invite",
    "survey_responses_enter",
]
