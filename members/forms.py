from django import forms
from django.utils.translation import gettext_lazy as _

from unionfunds.core.forms import DateField, IntegerField
from unionfunds.core.identifiers import validate_credit_code, validate_id_number, validate_phone

from .choices import Gender, OrgForm, ParentLevel, WorkerGroup
from .models import Region


class UnionForm(forms.Form):
    name = forms.CharField(label=_("工会名称"), max_length=100)
    credit_code = forms.CharField(
        label=_("统一社会信用代码"), max_length=18, min_length=18, help_text=_("18 位，工会以 81 开头")
    )
    org_form = forms.ChoiceField(label=_("组织形式"), choices=[("", _("请选择")), *OrgForm.choices])
    county = forms.ChoiceField(label=_("所在县（市、区）"))
    parent_level = forms.ChoiceField(
        label=_("隶属工会层级"),
        choices=[("", _("请选择")), *ParentLevel.choices],
        help_text=_("直接隶属的上级工会；市总工会直属的工会不属于县级及以下"),
    )
    covered_groups = forms.MultipleChoiceField(
        label=_("覆盖群体"),
        choices=WorkerGroup.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("工会吸纳的新就业形态劳动者群体，可多选"),
    )
    chair_name = forms.CharField(label=_("工会主席"), max_length=50)
    chair_elected_on = DateField(
        label=_("主席选举日期"),
        required=False,
        help_text=_("依法选举产生的日期；用于判断主席任期是否届满"),
    )
    chair_term_years = forms.TypedChoiceField(label=_("任期（年）"), choices=[(5, "5"), (3, "3")], coerce=int)
    committee_size = IntegerField(
        label=_("工会骨干人数"), min_value=0, max_value=999, help_text=_("工会委员会成员等骨干人数，含主席")
    )
    founded_on = DateField(label=_("成立日期"), required=False)
    funds_hard_to_guarantee = forms.BooleanField(
        label=_("经费难以保证"), required=False, help_text=_("会费、经费来源难以保证的工会在专项经费资助中优先")
    )
    bank_name = forms.CharField(label=_("开户银行"), max_length=100, required=False)
    bank_account = forms.CharField(
        label=_("银行账号"), max_length=40, required=False, help_text=_("专项经费下拨的对公账户；页面上只显示前后 4 位")
    )
    contact_name = forms.CharField(label=_("联系人"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)

    # How the page groups the fields; every field appears exactly once.
    FIELDSETS = [
        (_("基本信息"), ["name", "credit_code", "org_form", "county", "parent_level", "covered_groups", "founded_on"]),
        (
            _("组织建设"),
            ["chair_name", "chair_elected_on", "chair_term_years", "committee_size", "funds_hard_to_guarantee"],
        ),
        (_("账户与联系人"), ["bank_name", "bank_account", "contact_name", "contact_phone"]),
    ]

    # Never sent to the browser once stored: the edit page shows them masked and a blank field keeps them.
    KEPT_WHEN_BLANK = ("bank_account", "contact_phone")

    def __init__(self, *args, user, locked=(), stored=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.stored = stored
        if stored is not None:
            for name, masked in (
                ("bank_account", stored.bank_account_masked),
                ("contact_phone", stored.contact_phone_masked),
            ):
                self.initial.pop(name, None)
                if masked:
                    self.fields[name].help_text = _("已登记 %(masked)s；留空则保持不变，填写则替换。") % {
                        "masked": masked
                    }
        counties = Region.objects.for_user(user).counties().select_related("parent").order_by("code")
        choices = [(c.code, f"{c.parent.name} {c.name}") for c in counties]
        if len(choices) == 1:
            # A county clerk registers unions of their own county only: nothing to choose.
            self.fields["county"].choices = choices
            self.fields["county"].initial = choices[0][0]
        else:
            self.fields["county"].choices = [("", _("请选择")), *choices]
        for name in locked:
            self.fields[name].disabled = True

    @property
    def fieldsets(self):
        return [(title, [self[name] for name in names]) for title, names in self.FIELDSETS]

    def changes(self, locked=()) -> dict:
        """The cleaned data to save: locked fields left out, and on the edit page a stored account or
        phone left blank left out too (the page never had it)."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in locked and not (self.stored is not None and name in self.KEPT_WHEN_BLANK and not value)
        }

    # The service checks these again; checking here too reports every bad field in one round.
    def clean_credit_code(self):
        return validate_credit_code(self.cleaned_data["credit_code"])


class MemberForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    id_number = forms.CharField(
        label=_("身份证号"), max_length=18, min_length=18, help_text=_("18 位居民身份证号码，末位可为 X")
    )
    gender = forms.ChoiceField(label=_("性别"), choices=[("", _("按身份证号")), *Gender.choices], required=False)
    phone = forms.CharField(label=_("手机号"), max_length=20, required=False, help_text=_("11 位手机号码"))
    group = forms.ChoiceField(label=_("群体"), choices=WorkerGroup.choices)
    platform = forms.CharField(label=_("平台或单位"), max_length=100, required=False)
    joined_on = DateField(label=_("入会日期"))

    def clean_id_number(self):
        return validate_id_number(self.cleaned_data["id_number"])

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        return validate_phone(phone) if phone else phone


class MemberLeaveForm(forms.Form):
    left_on = DateField(label=_("离会日期"))


class RosterImportForm(forms.Form):
    file = forms.FileField(
        label=_("名册文件（.xlsx 或 .csv）"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv,text/csv"}),
    )


class UnionAccountForm(forms.Form):
    username = forms.CharField(
        label=_("账号"), max_length=150, help_text=_("字母、数字或 @ . + - _，例如 xixi_union；登录时区分大小写")
    )
    password = forms.CharField(
        label=_("初始密码"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("至少 10 位，含大小写字母、数字、符号中的三类；请当面或电话告知工会负责人，首次登录后由其修改"),
    )
    password_confirm = forms.CharField(
        label=_("再次输入初始密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password_confirm") and data["password"] != data["password_confirm"]:
            self.add_error("password_confirm", _("两次输入的密码不一致。"))
        return data


class TransitionForm(forms.Form):
    comment = forms.CharField(label=_("意见"), max_length=1000, required=False, widget=forms.TextInput)


class OtpCodeForm(forms.Form):
    """The second step of a login: a code from the authenticator app, or one of the recovery codes."""

    code = forms.CharField(
        label=_("验证码"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
        help_text=_("验证器应用中显示的 6 位数字；手机不在身边时，可输入一个恢复码（如 abcd-efgh）"),
    )


class OtpEnrolForm(forms.Form):
    code = forms.CharField(
        label=_("验证码"),
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text=_("扫码后验证器显示的 6 位数字"),
    )


class ApiClientForm(forms.Form):
    name = forms.CharField(label=_("系统名称"), max_length=100, help_text=_("例如：省财政厅预算管理一体化系统"))
    region = forms.ChoiceField(label=_("可见区划"), help_text=_("外部系统只能读取该区划范围内的数据"))
    scopes = forms.MultipleChoiceField(
        label=_("权限范围"), widget=forms.CheckboxSelectMultiple, help_text=_("只读；可多选")
    )

    def __init__(self, *args, user, **kwargs):
        from .clients import SCOPES

        super().__init__(*args, **kwargs)
        regions = Region.objects.for_user(user).order_by("code")
        self.fields["region"].choices = [("", _("请选择")), *((r.code, r.federation_name) for r in regions)]
        self.fields["scopes"].choices = list(SCOPES.items())
        self.fields["scopes"].initial = ["allocations:read"]
