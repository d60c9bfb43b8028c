"""Every read of the evaluation app beyond a plain scoped get: what the pages, the API and the reports
show. Lists are scoped with ``for_user`` (the reports, run by the worker for a job already checked, read
the job's area) and load what each row displays up front: one query per list, whatever its length."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db.models import Count, QuerySet

from grants.models import Allocation, Program
from members.choices import RegionLevel
from members.models import Region, Union

from .choices import REPORT_LEVEL, AssessmentStatus, ReportKind, SpotCheckStatus
from .models import (
    CitySummary,
    EvaluationRound,
    ReportJob,
    SelfAssessment,
    SpotCheck,
    SpotCheckDraw,
    SurveyInvite,
    SurveyResponse,
)

if TYPE_CHECKING:
    from members.models import User

# How many of a round's report jobs the overview lists, newest first.
RECENT_JOBS = 20
REPORT_KIND_OF_LEVEL = {level: kind for kind, level in REPORT_LEVEL.items()}


# ---------------------------------------------------------------- areas, subsidised unions, answers


def counties_under(region: Region) -> list[str]:
    """The codes of the counties that make up ``region`` (a county is an area of its own)."""
    if region.level == RegionLevel.COUNTY:
        return [region.code]
    if region.level == RegionLevel.CITY:
        return list(Region.objects.filter(parent=region).values_list("code", flat=True))
    return list(Region.objects.filter(parent__parent=region).values_list("code", flat=True))


def subsidised_union_ids(round_: EvaluationRound) -> set[int]:
    """The unions the round's program subsidised: the ones its survey concerns."""
    return set(Allocation.objects.filter(program_id=round_.program_id).values_list("union_id", flat=True))


def answer_counts(round_: EvaluationRound, **unions: Any) -> dict[int, int]:
    """Survey answers per union in ``round_`` for the unions the lookups ``unions`` choose
    (``union__county=…``, ``union__in=…``), in one query."""
    return dict(
        SurveyResponse.objects.filter(round=round_, **unions)
        .values("union_id")
        .annotate(n=Count("id"))
        .values_list("union_id", "n")
    )


def answered_from_device(invite: SurveyInvite, device: str) -> bool:
    """Whether the device (its digest) has already answered the invite's survey."""
    return SurveyResponse.objects.filter(round=invite.round, union=invite.union, device=device).exists()


# ---------------------------------------------------------------- rounds


def rounds(user: User) -> QuerySet[EvaluationRound]:
    """The rounds the user sees, newest first (the API's list)."""
    return EvaluationRound.objects.for_user(user).select_related("program").order_by("-id")


def rounds_by_year(user: User) -> list[EvaluationRound]:
    """The rounds the user sees, the latest program year first (the overview's choice of round)."""
    return list(EvaluationRound.objects.for_user(user).select_related("program").order_by("-program__year", "-id"))


def programs_open_for_evaluation(user: User) -> QuerySet[Program]:
    """The programs of the user's own region that have no evaluation round yet."""
    return Program.objects.for_user(user).filter(owner_id=user.region_id, evaluation_round__isnull=True)


def programs(user: User) -> QuerySet[Program]:
    """The programs the user sees (what the round form accepts; the service checks ownership)."""
    return Program.objects.for_user(user)


# ---------------------------------------------------------------- self-assessments


def assessments(user: User) -> QuerySet[SelfAssessment]:
    """Self-assessments in the user's scope, by round and county (the API's list)."""
    return SelfAssessment.objects.for_user(user).select_related("county").order_by("round_id", "county_id")


def round_assessments(user: User, round_: EvaluationRound) -> list[SelfAssessment]:
    """The round's self-assessments in the user's scope, by city and county, with their county and city."""
    return list(
        SelfAssessment.objects.for_user(user)
        .filter(round=round_)
        .select_related("county__parent")
        .order_by("county__parent_id", "county_id")
    )


def ranking(assessments: Iterable[SelfAssessment]) -> list[SelfAssessment]:
    """The assessments that have a final score, best first."""
    return sorted((a for a in assessments if a.final_score is not None), key=lambda a: a.final_score, reverse=True)


def status_counts(assessments: Iterable[SelfAssessment]) -> list[tuple[str, int]]:
    """How many assessments are in each state, every state named (zero included), in workflow order."""
    counts = dict.fromkeys(AssessmentStatus.values, 0)
    for assessment in assessments:
        counts[assessment.status] += 1
    return [(AssessmentStatus(status).label, n) for status, n in counts.items()]


def assessment_detail(user: User) -> QuerySet[SelfAssessment]:
    """Self-assessments in scope with what their page shows of the round, the program and the county."""
    return SelfAssessment.objects.for_user(user).select_related("round__program", "county__parent")


def assessment_unions(assessment: SelfAssessment) -> list[tuple[Allocation, int]]:
    """The county's allocations of the round's program, by union name, each with its survey answer count."""
    allocations = (
        Allocation.objects.filter(program=assessment.round.program, county=assessment.county)
        .select_related("union")
        .order_by("union__name")
    )
    answered = answer_counts(assessment.round, union__county=assessment.county)
    return [(allocation, answered.get(allocation.union_id, 0)) for allocation in allocations]


def area_assessments(round_: EvaluationRound, counties: list[str]) -> dict[str, SelfAssessment]:
    """The round's self-assessments of ``counties`` by county code, with county and city."""
    return {
        a.county_id: a
        for a in SelfAssessment.objects.filter(round=round_, county_id__in=counties).select_related("county__parent")
    }


def county_assessment(round_: EvaluationRound, county: Region) -> SelfAssessment | None:
    return SelfAssessment.objects.filter(round=round_, county=county).first()


def pending_counties(round_: EvaluationRound, city: Region) -> list[SelfAssessment]:
    """The city's self-assessments not yet approved, with their county."""
    return list(
        SelfAssessment.objects.filter(round=round_, county__parent=city)
        .exclude(status=AssessmentStatus.APPROVED)
        .select_related("county")
    )


def city_summary(round_: EvaluationRound, city: Region) -> CitySummary | None:
    return CitySummary.objects.filter(round=round_, city=city).first()


def subsidised_allocations(round_: EvaluationRound, counties: list[str]) -> QuerySet[Allocation]:
    """The allocations of the round's program in ``counties``, by city, county and union name."""
    return (
        Allocation.objects.filter(program_id=round_.program_id, county_id__in=counties)
        .select_related("union", "county", "city")
        .order_by("city_id", "county_id", "union__name")
    )


# ---------------------------------------------------------------- surveys


def survey_link_rows(user: User, round_: EvaluationRound) -> list[dict[str, Any]]:
    """The subsidised unions in scope by name, each with its survey invite (or None) and its answer count."""
    unions = list(surveyed_unions(user, round_).select_related("county").order_by("name"))
    answered = answer_counts(round_, union__in=unions)
    invites = {i.union_id: i for i in SurveyInvite.objects.filter(round=round_, union__in=unions)}
    return [{"union": u, "invite": invites.get(u.pk), "n": answered.get(u.pk, 0)} for u in unions]


def surveyed_unions(user: User, round_: EvaluationRound) -> QuerySet[Union]:
    """The subsidised unions in scope: the ones paper answers may be entered for."""
    return Union.objects.for_user(user).filter(pk__in=subsidised_union_ids(round_))


# ---------------------------------------------------------------- spot-checks


def spot_checks(user: User) -> QuerySet[SpotCheck]:
    """Spot-checks in scope, the latest draw first (the API's list)."""
    queryset = SpotCheck.objects.for_user(user).select_related("draw", "assessment__county")
    return queryset.order_by("-draw__drawn_at", "assessment__county_id")


def round_spot_checks(user: User, round_: EvaluationRound) -> QuerySet[SpotCheck]:
    """The round's spot-checks in scope, the latest draw first, with county, city and draw."""
    return (
        SpotCheck.objects.for_user(user)
        .filter(draw__round=round_)
        .select_related("assessment__county__parent", "draw")
        .order_by("-draw__drawn_at", "assessment__county_id")
    )


def draw_checks(draw: SpotCheckDraw) -> QuerySet[SpotCheck]:
    """The checks of one draw with their county (what the draw answers)."""
    return SpotCheck.objects.filter(draw=draw).select_related("assessment__county__parent")


def finished_spot_checks(round_: EvaluationRound) -> list[SpotCheck]:
    """The round's spot-checks with a result (verified or sent back), with county, city and draw."""
    return list(
        SpotCheck.objects.filter(draw__round=round_)
        .exclude(status=SpotCheckStatus.PENDING)
        .select_related("assessment__county__parent", "draw")
    )


# ---------------------------------------------------------------- reports


def report_jobs(user: User) -> QuerySet[ReportJob]:
    """Report jobs in scope, the newest first (the API's list)."""
    return ReportJob.objects.for_user(user).select_related("version").order_by("-id")


def recent_report_jobs(user: User, round_: EvaluationRound) -> QuerySet[ReportJob]:
    """The round's latest report jobs in scope, with region and finished version."""
    return (
        ReportJob.objects.for_user(user)
        .filter(round=round_)
        .select_related("region", "version")
        .order_by("-id")[:RECENT_JOBS]
    )


def report_targets(user: User) -> list[tuple[str, Region]]:
    """The reports the user's federation writes: its own level's, and a city's also those of its counties."""
    home = user.home_region
    if home is None:
        return []
    targets = [(REPORT_KIND_OF_LEVEL[home.level], home)]
    if home.level == RegionLevel.CITY:
        targets += [(ReportKind.COUNTY, c) for c in Region.objects.filter(parent=home).order_by("code")]
    return targets
