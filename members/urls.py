from django.urls import path, re_path

from . import account_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/password/", views.password_change, name="password-change"),
    path("accounts/locked/", views.locked_accounts, name="locked-accounts"),
    path("accounts/login/code/", account_views.login_code, name="login-code"),
    path("accounts/two-factor/", account_views.otp_setup, name="otp-setup"),
    path("accounts/two-factor/accounts/", account_views.two_factor_accounts, name="two-factor-accounts"),
    path("accounts/clients/", account_views.api_clients, name="api-clients"),
    path("accounts/clients/<int:pk>/revoke/", account_views.api_client_revoke, name="api-client-revoke"),
    path("audit/", views.audit_log, name="audit-log"),
    path("unions/", views.union_list, name="union-list"),
    path("unions/new/", views.union_create, name="union-create"),
    path("unions/roster-template/", views.roster_template, name="roster-template"),
    path("unions/<int:pk>/", views.union_detail, name="union-detail"),
    path("unions/<int:pk>/edit/", views.union_edit, name="union-edit"),
    re_path(
        r"^unions/(?P<pk>\d+)/(?P<action>verify|suspend|reinstate|dissolve)/$",
        views.union_transition,
        name="union-transition",
    ),
    path("unions/<int:pk>/accounts/new/", views.union_account_create, name="union-account-create"),
    path("unions/<int:pk>/members/import/", views.roster_import, name="roster-import"),
    path("unions/<int:pk>/members/new/", views.member_add, name="member-add"),
    path("unions/<int:pk>/members/<int:member_pk>/leave/", views.member_leave, name="member-leave"),
]
