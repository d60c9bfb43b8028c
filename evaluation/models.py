"""Three-tier performance evaluation: rounds, survey answers, county self-assessments,
province spot-checks and the PDF report jobs."""

import secrets
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.lookups import Exact
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from grants.models import Program
from members.choices import Role
from members.models import Region, Union
from members.scope import region_scope_q, scope_q
from unionfunds.core import clock
from unionfunds.core.models import WorkflowStep

from .choices import Answer, AssessmentStatus, Grade, JobStatus, ReportKind, ResponseSource, SpotCheckStatus
from .workflows import ACTION_LABELS

RATE = {"max_digits": 7, "decimal_places": 4}
SCORE = {"max_digits": 5, "decimal_places": 2}
WEIGHT = {"max_digits": 4, "decimal_places": 3}


class RoundQuerySet(models.QuerySet):
    def for_user(self, user):
        """Rounds of the programs the user can see."""
        return self.filter(program__in=Program.objects.for_user(user))


class EvaluationRound(models.Model):
    """The evaluation of one program year; weights copied from the program, editable before use."""

    program = models.OneToOneField(Program, on_delete=models.PROTECT, related_name="evaluation_round")
    coverage_target = models.DecimalField(_("覆盖率目标"), max_digits=4, decimal_places=3, default=Decimal("0.2"))
    min_responses = models.PositiveIntegerField(_("每个工会最少答卷数"), default=10)
    weight_utilization = models.DecimalField(_("资金使用率权重"), default=Decimal("0.3"), **WEIGHT)
    weight_coverage = models.DecimalField(_("覆盖率权重"), default=Decimal("0.2"), **WEIGHT)
    weight_satisfaction = models.DecimalField(_("满意度权重"), default=Decimal("0.5"), **WEIGHT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=clock.now)

    objects = RoundQuerySet.as_manager()

    class Meta:
        verbose_name = _("评价轮次")
        verbose_name_plural = _("评价轮次")
        ordering = ["-program__year", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Exact(
                    F("weight_utilization") + F("weight_coverage") + F("weight_satisfaction"), Value(Decimal("1.000"))
                ),
                name="round_weights_sum_to_one",
            ),
            models.CheckConstraint(
                condition=Q(coverage_target__gt=0, coverage_target__lte=1), name="round_coverage_target_range"
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(year)s年度绩效评价") % {"year": self.program.year}

    @property
    def year(self) -> int:
        return self.program.year

    @property
    def weights(self) -> dict[str, Decimal]:
        return {
            "utilization": self.weight_utilization,
            "coverage": self.weight_coverage,
            "satisfaction": self.weight_satisfaction,
        }


def new_survey_token() -> str:
    """22 URL-safe characters (128 bits): unguessable, short enough for a printed link."""
    return secrets.token_urlsafe(16)


class SurveyInvite(models.Model):
    """The public survey link of one union in one round (``/s/<token>/``), printable as a QR code."""

    round = models.ForeignKey(EvaluationRound, on_delete=models.CASCADE, related_name="invites")
    union = models.ForeignKey(Union, on_delete=models.PROTECT, related_name="+")
    token = models.CharField(max_length=32, unique=True, default=new_survey_token)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "union"], name="invite_once_per_union")]

    def __str__(self) -> str:
        return f"{self.union} · {self.round}"


class SurveyResponseQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(scope_q(user, county="union__county", union="union"))


class SurveyResponse(models.Model):
    """One member's five-level answer, from the public page, a paper form or an import."""

    round = models.ForeignKey(EvaluationRound, on_delete=models.PROTECT, related_name="responses")
    union = models.ForeignKey(Union, on_delete=models.PROTECT, related_name="+")
    answer = models.CharField(_("满意度"), max_length=20, choices=Answer.choices)
    score = models.PositiveSmallIntegerField(_("分值"))
    comment = models.CharField(_("意见建议"), max_length=500, blank=True)
    source = models.CharField(max_length=10, choices=ResponseSource.choices)
    # Web answers: a hash of the device cookie, so one device answers once per union and round.
    device = models.CharField(max_length=64, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(default=clock.now)

    objects = SurveyResponseQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "union", "device"], condition=~Q(device=""), name="response_once_per_device"
            ),
            models.CheckConstraint(condition=Q(score__in=[20, 40, 60, 80, 100]), name="response_score_five_levels"),
        ]
        indexes = [models.Index(fields=["round", "union"])]

    def __str__(self) -> str:
        return f"{self.union_id} {self.answer}"


def _federation_q(user, *, path: str):
    """Evaluation is the federations' business: a union officer sees none of it (the survey page is public)."""
    if getattr(user, "role", "") == Role.UNION_OFFICER:
        return Q(pk__in=[])
    return region_scope_q(user, path=path)


class SelfAssessmentQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(_federation_q(user, path="county"))


class SelfAssessment(models.Model):
    """A county's self-assessment (县级自评) and, once approved, its city-reviewed and final scores.

    The indicator figures are computed from recorded data and frozen here when the county submits.
    """

    round = models.ForeignKey(EvaluationRound, on_delete=models.PROTECT, related_name="assessments")
    county = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=12, choices=AssessmentStatus.choices, default=AssessmentStatus.DRAFT)
    narrative = models.TextField(_("自评说明"), blank=True)
    # Frozen at submit.
    utilization_rate = models.DecimalField(null=True, blank=True, **RATE)
    coverage_rate = models.DecimalField(null=True, blank=True, **RATE)
    satisfaction = models.DecimalField(null=True, blank=True, **SCORE)
    score_utilization = models.DecimalField(null=True, blank=True, **SCORE)
    score_coverage = models.DecimalField(null=True, blank=True, **SCORE)
    score_satisfaction = models.DecimalField(null=True, blank=True, **SCORE)
    total_score = models.DecimalField(null=True, blank=True, **SCORE)
    grade = models.CharField(max_length=2, choices=Grade.choices, blank=True)
    figures = models.JSONField(default=dict, blank=True)
    flags = models.JSONField(default=list, blank=True)
    # City review: per-indicator adjustments {indicator: {score, reason}} and the reviewed total.
    adjustments = models.JSONField(default=dict, blank=True)
    reviewed_score = models.DecimalField(null=True, blank=True, **SCORE)
    final_score = models.DecimalField(null=True, blank=True, **SCORE)
    final_grade = models.CharField(max_length=2, choices=Grade.choices, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SelfAssessmentQuerySet.as_manager()

    class Meta:
        ordering = ["county_id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "county"], name="assessment_once_per_county"),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(total_score__isnull=False), name="assessment_submitted_has_scores"
            ),
        ]
        indexes = [models.Index(fields=["round", "status"])]

    def __str__(self) -> str:
        return f"{self.county.name} · {self.round}"

    def scores(self) -> dict[str, Decimal | None]:
        """The three indicator scores frozen at submit, by indicator."""
        return {
            "utilization": self.score_utilization,
            "coverage": self.score_coverage,
            "satisfaction": self.score_satisfaction,
        }


class AssessmentTransition(WorkflowStep):
    """One step of a self-assessment's history."""

    assessment = models.ForeignKey(SelfAssessment, on_delete=models.PROTECT, related_name="history")

    class Meta(WorkflowStep.Meta):
        pass

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)

    @property
    def from_label(self) -> str:
        return str(AssessmentStatus(self.from_status).label)

    @property
    def to_label(self) -> str:
        return str(AssessmentStatus(self.to_status).label)


def evidence_path(instance, filename: str) -> str:
    return f"evidence/{instance.assessment_id}/{uuid.uuid4().hex}"


class EvidenceFile(models.Model):
    assessment = models.ForeignKey(SelfAssessment, on_delete=models.PROTECT, related_name="evidence")
    file = models.FileField(upload_to=evidence_path)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name


class SpotCheckDraw(models.Model):
    """One random draw of the province (省级抽查); the seed is kept so the draw can be reproduced."""

    round = models.ForeignKey(EvaluationRound, on_delete=models.PROTECT, related_name="draws")
    seed = models.BigIntegerField()
    count = models.PositiveIntegerField()
    population = models.JSONField(default=list)  # ids of the approved assessments it was drawn from
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    drawn_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-drawn_at"]

    def __str__(self) -> str:
        return f"{self.round} seed={self.seed}"


class SpotCheckQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(_federation_q(user, path="assessment__county"))


class SpotCheck(models.Model):
    draw = models.ForeignKey(SpotCheckDraw, on_delete=models.PROTECT, related_name="checks")
    assessment = models.ForeignKey(SelfAssessment, on_delete=models.PROTECT, related_name="spot_checks")
    status = models.CharField(max_length=12, choices=SpotCheckStatus.choices, default=SpotCheckStatus.PENDING)
    verified_utilization = models.DecimalField(null=True, blank=True, **SCORE)
    verified_coverage = models.DecimalField(null=True, blank=True, **SCORE)
    verified_satisfaction = models.DecimalField(null=True, blank=True, **SCORE)
    verified_score = models.DecimalField(null=True, blank=True, **SCORE)
    difference = models.DecimalField(null=True, blank=True, **SCORE)
    flagged = models.BooleanField(default=False)
    findings = models.TextField(blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    verified_at = models.DateTimeField(null=True, blank=True)

    objects = SpotCheckQuerySet.as_manager()

    class Meta:
        ordering = ["assessment__county_id"]
        constraints = [models.UniqueConstraint(fields=["draw", "assessment"], name="spot_check_once_per_draw")]

    def __str__(self) -> str:
        return f"{self.assessment} ({self.status})"


class ReportJobQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(_federation_q(user, path="region"))


class ReportJob(models.Model):
    """A request for a PDF report; ``queued → running → done | failed``."""

    kind = models.CharField(max_length=10, choices=ReportKind.choices)
    round = models.ForeignKey(EvaluationRound, on_delete=models.PROTECT, related_name="report_jobs")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=clock.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ReportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            # At most one queued or running job per report: asking again returns that job.
            models.UniqueConstraint(
                fields=["kind", "round", "region"],
                condition=Q(status__in=["queued", "running"]),
                name="report_one_active_job",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.region} ({self.status})"


def report_path(instance, filename: str) -> str:
    return f"reports/{instance.job.round_id}/{uuid.uuid4().hex}.pdf"


class ReportVersion(models.Model):
    """A finished PDF; every generation is a new version, kept with its SHA-256."""

    job = models.OneToOneField(ReportJob, on_delete=models.PROTECT, related_name="version")
    number = models.PositiveIntegerField()
    file = models.FileField(upload_to=report_path)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    pages = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"v{self.number} {self.sha256[:12]}"


class CitySummary(models.Model):
    """A city's own review summary (市级审核评价), completed once all its counties are approved."""

    round = models.ForeignKey(EvaluationRound, on_delete=models.PROTECT, related_name="city_summaries")
    city = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    narrative = models.TextField(blank=True)
    figures = models.JSONField(default=dict)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    completed_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "city"], name="city_summary_once")]

    def __str__(self) -> str:
        return f"{self.city.name} · {self.round}"
