"""The evaluation pages' forms: opening a round, the spot-check draw and its verified scores, paper answers
counted per level, an uploaded file, and a form without fields that carries a service's refusals to the
page's messages. What each workflow action of an assessment's page sends is read here too."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from members.models import Union
from unionfunds.core.filters import MAX_SMALL
from unionfunds.core.forms import DecimalField, IntegerField
from unionfunds.core.uploads import too_large_message

from . import services
from .choices import Answer, Indicator


class RoundForm(forms.Form):
    program = forms.ChoiceField(label=_("项目"))
    coverage_target = DecimalField(label=_("覆盖率目标"), initial=Decimal("0.2"), max_digits=4, decimal_places=3)
    min_responses = IntegerField(label=_("每个工会最少答卷数"), initial=10, min_value=1, max_value=MAX_SMALL)
    weight_satisfaction = DecimalField(label=_("满意度权重"), initial=Decimal("0.5"), max_digits=4, decimal_places=3)
    weight_utilization = DecimalField(label=_("资金使用率权重"), initial=Decimal("0.3"), max_digits=4, decimal_places=3)
    weight_coverage = DecimalField(label=_("覆盖率权重"), initial=Decimal("0.2"), max_digits=4, decimal_places=3)

    def __init__(self, *args: Any, programs: Iterable[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = [(str(p.pk), str(p)) for p in programs]

    def weights(self) -> dict[str, Decimal]:
        return {
            "utilization": self.cleaned_data["weight_utilization"],
            "coverage": self.cleaned_data["weight_coverage"],
            "satisfaction": self.cleaned_data["weight_satisfaction"],
        }


class DrawForm(forms.Form):
    count = IntegerField(label=_("抽查数量"), min_value=1, max_value=MAX_SMALL, required=False)
    ratio = DecimalField(label=_("或抽查比例"), max_digits=4, decimal_places=3, required=False)
    seed = IntegerField(label=_("随机种子（留空则随机生成）"), required=False, min_value=0, max_value=services.MAX_SEED)


class VerifyForm(forms.Form):
    utilization = DecimalField(label=_("资金使用率核定分"), max_digits=5, decimal_places=2, min_value=0, max_value=100)
    coverage = DecimalField(label=_("覆盖率核定分"), max_digits=5, decimal_places=2, min_value=0, max_value=100)
    satisfaction = DecimalField(label=_("满意度核定分"), max_digits=5, decimal_places=2, min_value=0, max_value=100)
    findings = forms.CharField(label=_("抽查发现"), widget=forms.Textarea(attrs={"rows": 2}))

    def scores(self) -> dict[str, Decimal]:
        return {indicator: self.cleaned_data[indicator] for indicator in Indicator.values}


class PaperForm(forms.Form):
    """Counts of paper answers per level for one union: 12 非常满意, 30 满意, …"""

    union = forms.ChoiceField(label=_("工会"))

    def __init__(self, *args: Any, unions: Iterable[Union], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["union"].choices = [(str(u.pk), u.name) for u in unions]
        for answer in Answer:
            self.fields[answer.value] = IntegerField(
                label=answer.label, min_value=0, max_value=services.SURVEY_ENTRY_MAX, initial=0
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        try:
            services.survey_batch_check(sum(data.get(a.value) or 0 for a in Answer))
        except ValidationError as exc:
            self.add_error(None, exc.message_dict["responses"])
        return data

    def rows(self) -> list[dict[str, str]]:
        """One answer row per paper form counted, as the service takes them."""
        return [
            {"union": self.cleaned_data["union"], "answer": answer.value}
            for answer in Answer
            for _n in range(self.cleaned_data[answer.value])
        ]


class ServiceForm(forms.Form):
    """No fields: carries a service's refusals (``core.forms.call_service``) to the page's messages."""


class UploadForm(ServiceForm):
    """The ``file`` of a multipart POST, refused before it is read when missing or too large; the refusals,
    its own and the service's, are page messages without a field label (the service names the field)."""

    def __init__(self, data: Any, files: Any, *, missing: str) -> None:
        super().__init__(data, files)
        self.missing = missing

    def clean(self) -> dict[str, Any]:
        upload = self.files.get("file")
        if upload is None:
            raise ValidationError(self.missing)
        if upload.size > settings.UPLOAD_MAX_BYTES:
            raise ValidationError(too_large_message())
        self.cleaned_data["file"] = upload
        return self.cleaned_data

    @property
    def upload(self) -> UploadedFile:
        return self.cleaned_data["file"]


def _adjustments(data: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """The approval form's adjusted scores: an indicator counts when its score box is filled."""
    adjustments = {}
    for indicator in Indicator.values:
        value = data.get(f"adjust_{indicator}", "").strip()
        if value:
            adjustments[indicator] = {"score": value, "reason": data.get(f"reason_{indicator}", "")}
    return adjustments


# What the page's form of each action of ``ASSESSMENT_WORKFLOW`` sends, as keyword arguments of the action's
# service (``services.ASSESSMENT_SERVICES``).
ASSESSMENT_ACTION_INPUT: dict[str, Callable[[Mapping[str, str]], dict[str, Any]]] = {
    "submit": lambda data: {"narrative": data.get("narrative", "")},
    "approve": lambda data: {"adjustments": _adjustments(data), "comment": data.get("comment", "")},
    "return": lambda data: {"comment": data.get("comment", "")},
}
