from django import forms
from django.utils.translation import gettext_lazy as _

from unionfunds.core.forms import DateInput

from .choices import Gender, OrgForm, ParentLevel, WorkerGroup
from .models import Region


class UnionForm(forms.Form):
    name = forms.CharField(label=_("工会名称"), max_length=100)
    credit_code = forms.CharField(
        label=_("统一社会信用代码"), max_length=18, min_length=18, help_text=_("18 位，工会以 81 开头")
    )
    org_form = forms.ChoiceField(label=_("组织形式"), choices=OrgForm.choices)
    county = forms.ChoiceField(label=_("所在县（市、区）"))
    parent_level = forms.ChoiceField(label=_("隶属工会层级"), choices=ParentLevel.choices)
    covered_groups = forms.MultipleChoiceField(
        label=_("覆盖群体"), choices=WorkerGroup.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    chair_name = forms.CharField(label=_("工会主席"), max_length=50)
    chair_elected_on = forms.DateField(label=_("主席选举日期"), required=False, widget=DateInput())
    chair_term_years = forms.TypedChoiceField(label=_("任期（年）"), choices=[(5, "5"), (3, "3")], coerce=int)
    committee_size = forms.IntegerField(label=_("工会骨干人数"), min_value=0, max_value=999)
    founded_on = forms.DateField(label=_("成立日期"), required=False, widget=DateInput())
    funds_hard_to_guarantee = forms.BooleanField(label=_("经费难以保证"), required=False)
    bank_name = forms.CharField(label=_("开户银行"), max_length=100, required=False)
    bank_account = forms.CharField(label=_("银行账号"), max_length=40, required=False)
    contact_name = forms.CharField(label=_("联系人"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)

    def __init__(self, *args, user, locked=(), **kwargs):
        super().__init__(*args, **kwargs)
        counties = Region.objects.for_user(user).counties().select_related("parent").order_by("code")
        self.fields["county"].choices = [("", "—")] + [(c.code, f"{c.parent.name} {c.name}") for c in counties]
        for name in locked:
            self.fields[name].disabled = True


class MemberForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    id_number = forms.CharField(label=_("身份证号"), max_length=18, min_length=18)
    gender = forms.ChoiceField(label=_("性别"), choices=[("", _("按身份证号")), *Gender.choices], required=False)
    phone = forms.CharField(label=_("手机号"), max_length=20, required=False)
    group = forms.ChoiceField(label=_("群体"), choices=WorkerGroup.choices)
    platform = forms.CharField(label=_("平台或单位"), max_length=100, required=False)
    joined_on = forms.DateField(label=_("入会日期"), widget=DateInput())


class MemberLeaveForm(forms.Form):
    left_on = forms.DateField(label=_("离会日期"), widget=DateInput())


class RosterImportForm(forms.Form):
    file = forms.FileField(label=_("名册文件（.xlsx 或 .csv）"))


class TransitionForm(forms.Form):
    comment = forms.CharField(label=_("意见"), max_length=1000, required=False, widget=forms.TextInput)
