"""Logging in with two factors, enrolling an authenticator, and the province's pages for accounts' second
factors and outside systems. Reads through ``for_user``; writes through services.

The login is two steps. The password step (Django's form, django-axes watching) does not log anyone in
when the account has an authenticator or must have one: it only notes, in the anonymous session, who
passed it and when. The code step (or, for an account that must have a second factor and has none, the
enrolment page) finishes the login. Until then the session is anonymous, so nothing else can be used.
"""

import time

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from unionfunds.core import otp
from unionfunds.core.auth import LoginForm
from unionfunds.core.errors import ApplicationError
from unionfunds.core.forms import call_service

from . import permissions, services
from .clients import SCOPES
from .forms import ApiClientForm, OtpCodeForm, OtpEnrolForm
from .models import ApiClient, User

PENDING = "uf_login_pending"  # who passed the password step, when, and where they were going
PENDING_SECONDS = 5 * 60  # time to type the code (or to scan the QR code and confirm it)
ENROL_SECONDS = 15 * 60
SETUP_SECRET = "uf_otp_setup_secret"  # noqa: S105 — a session key; the value kept under it is the secret shown on the enrolment page until it is confirmed


class LoginView(auth_views.LoginView):
    """The password step. Accounts without a second factor (and not obliged to have one) are logged in."""

    redirect_authenticated_user = True
    authentication_form = LoginForm

    def form_valid(self, form):
        user = form.get_user()
        has_device = otp.has_device(user)
        if not (has_device or user.two_factor_required):
            return super().form_valid(form)
        self.request.session[PENDING] = {
            "user": user.pk,
            "backend": getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[-1]),
            "next": self.get_success_url(),
            "at": time.time(),
        }
        self.request.session.pop(SETUP_SECRET, None)
        return redirect("login-code" if has_device else "otp-setup")


def _pending(request, *, seconds: int = PENDING_SECONDS) -> tuple[User, dict] | None:
    """The user who passed the password step in this session, if recently enough."""
    data = request.session.get(PENDING)
    if not isinstance(data, dict) or time.time() - data.get("at", 0) > seconds:
        request.session.pop(PENDING, None)
        return None
    user = User.objects.filter(pk=data.get("user"), is_active=True).first()
    return (user, data) if user is not None else None


def _finish_login(request, user: User, pending: dict, device):
    """The second factor is done: log in (a new session key), remember the device, go where they were going."""
    request.session.pop(PENDING, None)
    login(request, user, backend=pending["backend"])
    otp_login(request, device)
    target = pending.get("next") or settings.LOGIN_REDIRECT_URL
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = settings.LOGIN_REDIRECT_URL
    return redirect(target)


def login_code(request):
    """The code step of the login: a TOTP code or a recovery code. Wrong codes count towards the lockout."""
    if request.user.is_authenticated:
        return redirect("home")
    found = _pending(request)
    if found is None:
        messages.info(request, _("请先输入账号和密码。"))
        return redirect("login")
    user, pending = found
    if not otp.has_device(user):  # reset meanwhile: enrol instead
        return redirect("otp-setup")
    credentials = {"username": user.username}
    if AxesProxyHandler.is_locked(request, credentials):
        request.session.pop(PENDING, None)
        return get_lockout_response(request, None, credentials)
    form = OtpCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        device = otp.verify(user, form.cleaned_data["code"])
        if device is not None:
            if not isinstance(device, TOTPDevice):
                left = otp.recovery_codes_left(user)
                messages.warning(
                    request,
                    _(
                        "您使用了一个恢复码，还剩 %(n)d 个。手机找回或更换后，请在“两步验证”中重新绑定，"
                        "以获得新的恢复码。"
                    )
                    % {"n": left},
                )
            return _finish_login(request, user, pending, device)
        form.add_error("code", _("验证码不正确或已使用过，请输入验证器当前显示的 6 位数字，或一个未用过的恢复码。"))
        otp.report_failure(request, user.username)  # django-axes may lock the account now (its middleware answers)
    return render(request, "registration/login_code.html", {"form": form, "username": user.username})


def otp_setup(request):
    """Enrol an authenticator app: QR code and secret, a first code to confirm, then the recovery codes.

    Open to any logged-in user for their own account, and to someone who has just passed the password step
    of an account that must have a second factor and has none (their login ends here).
    """
    pending = None
    if request.user.is_authenticated:
        user = request.user
    else:
        found = _pending(request, seconds=ENROL_SECONDS)
        if found is None or otp.has_device(found[0]):
            return redirect("login")
        user, pending = found
    secret = request.session.get(SETUP_SECRET)
    if not secret or (request.method == "GET" and request.GET.get("new")):
        secret = request.session[SETUP_SECRET] = otp.new_secret()
    form = OtpEnrolForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        codes = call_service(
            form, lambda: services.otp_enrol(user=user, secret=secret, code=form.cleaned_data["code"], by=user)
        )
        if codes is not None:
            request.session.pop(SETUP_SECRET, None)
            next_url = reverse("home")
            if pending is not None:
                _finish_login(request, user, pending, TOTPDevice.objects.get(user=user, confirmed=True))
                next_url = pending.get("next") or next_url
            # Shown in this answer only: the codes are nowhere else in readable form for the user.
            return render(request, "registration/otp_recovery.html", {"codes": codes, "next_url": next_url})
    enrolled = request.user.is_authenticated and otp.has_device(user)
    return render(
        request,
        "registration/otp_setup.html",
        {
            "form": form,
            "account": user,
            "pending": pending is not None,
            "required": user.two_factor_required,
            "enrolled": enrolled,
            "recovery_left": otp.recovery_codes_left(user) if enrolled else 0,
            "qr": otp.qr_svg(otp.provisioning_uri(user.username, secret)),
            "secret": otp.grouped(secret),
        },
    )


def admin_login(request):
    """The admin's own login form would check the password alone: it sends everyone to the two-step login."""
    target = request.GET.get("next") or reverse("admin:index")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("admin:index")
    if request.user.is_authenticated:
        if request.user.is_staff:
            return redirect(target)
        messages.error(request, _("您的账号没有管理后台的权限。"))
        return redirect("home")
    return redirect(f"{reverse('login')}?{urlencode({'next': target})}")


@login_required
def two_factor_accounts(request):
    """Province staff: find an account and reset its second factor (a lost or replaced phone)."""
    allowed, reason = permissions.can_reset_two_factor(request.user)
    if not allowed:
        messages.error(request, reason)
        return redirect("home")
    if request.method == "POST":
        username = request.POST.get("username", "")
        try:
            deleted = services.otp_reset(username=username, by=request.user)
        except (Http404, ApplicationError) as refused:
            messages.error(request, str(getattr(refused, "detail", refused)))
        else:
            messages.success(
                request,
                _("已重置账号「%(name)s」的两步验证（删除 %(n)d 个验证设备）。该账号下次登录时需重新绑定验证器。")
                % {"name": username, "n": deleted},
            )
        return redirect("two-factor-accounts")
    search = request.GET.get("q", "").strip()[:150]
    accounts = (
        User.objects.for_user(request.user)
        .select_related("region", "union")
        .annotate(has_device=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)))
        .order_by("username")
    )
    accounts = accounts.filter(username__icontains=search) if search else accounts.filter(has_device=True)
    page = Paginator(accounts, 50).get_page(request.GET.get("page"))
    query = urlencode({"q": search}) if search else ""
    return render(request, "members/two_factor_accounts.html", {"page": page, "search": search, "query": query})


@login_required
def api_clients(request):
    """Province staff: the outside systems with their scopes and last use; register one, revoke one."""
    allowed, reason = permissions.can_manage_api_clients(request.user)
    if not allowed:
        messages.error(request, reason)
        return redirect("home")
    form = ApiClientForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and form.is_valid():
        created = call_service(
            form,
            lambda: services.api_client_register(
                name=form.cleaned_data["name"],
                region_code=form.cleaned_data["region"],
                scopes=form.cleaned_data["scopes"],
                by=request.user,
            ),
        )
        if created is not None:
            client, secret = created
            messages.success(request, _("已登记外部系统「%(name)s」。") % {"name": client.name})
            # The secret is stored only hashed: this answer is the one place it is ever shown.
            return render(
                request,
                "members/api_client_created.html",
                {
                    "client": client,
                    "client_id": client.application.client_id,
                    "secret": secret,
                    "token_url": request.build_absolute_uri(reverse("oauth-token")),
                    "expires": settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"] // 60,
                },
            )
    clients = ApiClient.objects.select_related("account__region", "application", "created_by").order_by(
        "revoked_at", "name"
    )
    return render(
        request,
        "members/api_clients.html",
        {
            "clients": [(c, [SCOPES.get(s, s) for s in c.scope_list]) for c in clients],
            "form": form,
            "expires": settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"] // 60,
        },
    )


@login_required
@require_POST
def api_client_revoke(request, pk: int):
    allowed, reason = permissions.can_manage_api_clients(request.user)
    if not allowed:
        messages.error(request, reason)
        return redirect("home")
    client = get_object_or_404(ApiClient, pk=pk)
    try:
        tokens = services.api_client_revoke(client=client, by=request.user)
    except ApplicationError as refused:
        messages.error(request, refused.detail)
    else:
        messages.success(
            request,
            _("已停用外部系统「%(name)s」，%(n)d 个访问令牌立即失效。") % {"name": client.name, "n": tokens},
        )
    return redirect("api-clients")
