from decimal import Decimal

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from members.choices import RegionLevel
from members.models import Region
from unionfunds.core.filters import MAX_COUNT, MAX_SMALL
from unionfunds.core.forms import DateField, IntegerField, MoneyField

from .choices import ApplicationStatus, AttachmentKind, Category

POSITIVE = {"min_value": Decimal("0.01")}


def set_region_choices(form: forms.Form, regions: list[Region]) -> None:
    """Fill the ``city`` and ``county`` filters from the regions of the user's scope; a filter with a single
    choice (a city's own city, a county's own county) is dropped."""
    for name, level in (("city", RegionLevel.CITY), ("county", RegionLevel.COUNTY)):
        choices = [(r.code, r.name) for r in regions if r.level == level]
        if len(choices) <= 1:
            del form.fields[name]
        else:
            form.fields[name].choices = [("", _("全部")), *choices]


class QueueFilterForm(forms.Form):
    """Filters of the review queue; choices are fixed lists or the (few) programs of the user's scope."""

    SORTS = [
        ("priority", _("优先分（高到低）")),
        ("amount", _("申请金额（高到低）")),
        ("date", _("提交时间（早到晚）")),
    ]
    program = forms.ChoiceField(label=_("项目"), required=False)
    city = forms.ChoiceField(label=_("市"), required=False)
    county = forms.ChoiceField(label=_("县（市、区）"), required=False)
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部")), *ApplicationStatus.choices])
    eligible = forms.ChoiceField(
        label=_("条件"), required=False, choices=[("", _("全部")), ("yes", _("符合")), ("no", _("不符合"))]
    )
    org_form = forms.ChoiceField(label=_("组织形式"), required=False)
    sort = forms.ChoiceField(label=_("排序"), required=False, choices=SORTS)

    def __init__(self, *args, programs, regions, org_forms, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = [(str(p.pk), str(p)) for p in programs]
        set_region_choices(self, regions)
        self.fields["org_form"].choices = [("", _("全部")), *org_forms]


class BudgetLinesField(forms.CharField):
    """Budget lines typed one per line: ``category amount description`` (category as code or label)."""

    widget = forms.Textarea(attrs={"rows": 5})

    def to_python(self, value):
        value = super().to_python(value)
        labels = {str(label): code for code, label in Category.choices}
        lines = []
        for number, raw in enumerate(value.splitlines(), start=1):
            raw = raw.strip()
            if not raw:
                continue
            parts = raw.replace("，", " ").replace(",", " ").split(maxsplit=2)
            if len(parts) < 2:
                raise forms.ValidationError(gettext("第 %(n)d 行应为「使用范围 金额 说明」。") % {"n": number})
            category = labels.get(parts[0], parts[0])
            lines.append({"category": category, "amount": parts[1], "description": parts[2] if len(parts) > 2 else ""})
        return lines


class ApplicationForm(forms.Form):
    program = forms.ChoiceField(label=_("项目"))
    union = forms.ChoiceField(label=_("工会"))
    requested_amount = MoneyField(label=_("申请金额（元）"), **POSITIVE)
    budget_lines = BudgetLinesField(
        label=_("预算明细"),
        required=False,
        help_text=_("每行一项：使用范围 金额 说明，例如「职工活动 20000 节日慰问」；合计须等于申请金额。"),
    )
    plan = forms.CharField(label=_("使用计划"), widget=forms.Textarea(attrs={"rows": 6}), required=False)

    def __init__(self, *args, programs, unions, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = [
            (str(p.pk), gettext("%(program)s（上限 %(max)s 元）") % {"program": p, "max": f"{p.max_grant:,.2f}"})
            for p in programs
        ]
        self.fields["union"].choices = [(str(u.pk), u.name) for u in unions]
        if editing:
            self.fields["program"].disabled = True
            self.fields["union"].disabled = True


class ActionForm(forms.Form):
    comment = forms.CharField(
        label=_("意见"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    approved_amount = MoneyField(label=_("核定金额（元）"), required=False, **POSITIVE)


class AttachmentForm(forms.Form):
    kind = forms.ChoiceField(label=_("材料类型"), choices=AttachmentKind.choices)
    file = forms.FileField(label=_("文件（PDF、PNG、JPEG，10 MB 以内）"))


class ProgramForm(forms.Form):
    name = forms.CharField(label=_("项目名称"), max_length=120)
    year = IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    budget_total = MoneyField(label=_("预算总额（元）"), **POSITIVE)
    fiscal = MoneyField(label=_("其中：财政资金"), required=False)
    union = MoneyField(label=_("其中：工会补助/本级经费"), required=False)
    other = MoneyField(label=_("其中：其他"), required=False)
    target_count = IntegerField(label=_("计划补助工会数"), min_value=1, max_value=MAX_COUNT)
    max_grant = MoneyField(label=_("单个工会补助上限（元）"), required=False, **POSITIVE)
    opens_on = DateField(label=_("申报开始"))
    closes_on = DateField(label=_("申报截止"))
    categories = forms.MultipleChoiceField(
        label=_("使用范围"), choices=Category.choices, widget=forms.CheckboxSelectMultiple, initial=Category.values
    )
    min_members = IntegerField(label=_("会员人数下限"), min_value=0, max_value=MAX_COUNT, initial=150)
    min_committee = IntegerField(label=_("工会骨干人数下限"), min_value=0, max_value=MAX_SMALL, initial=3)
    city_quotas = forms.CharField(
        label=_("各市名额"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("每行「市区划代码 名额」，例如「330100 40」；不填则不限。"),
    )

    def service_data(self, owner: str) -> dict:
        data = dict(self.cleaned_data)
        data["owner"] = owner
        data["funding_sources"] = [
            {"source": source, "amount": data.pop(source)}
            for source in ("fiscal", "union", "other")
            if data.get(source) not in (None, Decimal("0"))
        ]
        for source in ("fiscal", "union", "other"):
            data.pop(source, None)
        quotas = {}
        for line in (data.pop("city_quotas") or "").splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                quotas[parts[0]] = int(parts[1])
            elif line.strip():
                raise forms.ValidationError(gettext("各市名额的格式应为「330100 40」：%(line)s") % {"line": line})
        data["city_quotas"] = quotas
        return data


class DisbursementForm(forms.Form):
    amount = MoneyField(label=_("拨付金额（元）"), **POSITIVE)
    paid_on = DateField(label=_("拨付日期"))
    voucher_no = forms.CharField(label=_("凭证号"), max_length=50)
    to = forms.ChoiceField(label=_("拨入单位"), required=False)

    def __init__(self, *args, union_name: str = "", targets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [("", union_name or _("基层工会"))] + [(r.code, r.federation_name) for r in targets]


class ExpenditureForm(forms.Form):
    spent_on = DateField(label=_("支出日期"))
    category = forms.ChoiceField(label=_("使用范围"), choices=Category.choices)
    amount = MoneyField(label=_("金额（元）"), **POSITIVE)
    description = forms.CharField(label=_("用途说明"), max_length=300)
    voucher_no = forms.CharField(label=_("凭证号"), max_length=50)
    beneficiaries = IntegerField(label=_("受益职工人数"), min_value=0, max_value=MAX_COUNT, initial=0)
    voucher_file = forms.FileField(label=_("凭证附件（PDF/PNG/JPEG，可选）"), required=False)

    def __init__(self, *args, categories=None, **kwargs):
        super().__init__(*args, **kwargs)
        if categories is not None:
            labels = dict(Category.choices)
            self.fields["category"].choices = [(c, labels[c]) for c in categories]


class AllocationFilterForm(forms.Form):
    program = forms.ChoiceField(label=_("项目"), required=False)
    city = forms.ChoiceField(label=_("市"), required=False)
    county = forms.ChoiceField(label=_("县（市、区）"), required=False)
    status = forms.ChoiceField(label=_("状态"), required=False)
    min_amount = MoneyField(label=_("金额不低于"), required=False)
    max_amount = MoneyField(label=_("金额不高于"), required=False)

    def __init__(self, *args, programs, regions, statuses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = [("", _("全部"))] + [(str(p.pk), str(p)) for p in programs]
        set_region_choices(self, regions)
        self.fields["status"].choices = [("", _("全部")), *statuses]
