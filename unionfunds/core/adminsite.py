"""The project's admin site: a read-only window for operators, whatever registers in it.

Every change goes through the services (role, scope, validation, audit trail); the admin would bypass all
of them. So the site itself, not each ``ModelAdmin``, decides:

- only models of the project's own apps are registered; a library's ``admin.py`` (API tokens listed with
  their keys, lockout records, groups, and whatever a later library brings) registers nothing;
- whatever is registered is read-only: no add, change, delete and no bulk actions, even for a superuser;
- the admin's own password form sends to the site's page, which changes the password through the service.
"""

import logging

from django.contrib import admin
from django.contrib.admin import apps as admin_apps
from django.db.models.base import ModelBase
from django.shortcuts import redirect

logger = logging.getLogger(__name__)

# App labels whose models the admin may show. Another app's model needs a read-only admin of its own here
# (and one that shows no secret) before it can appear.
PROJECT_APPS = frozenset({"core", "members", "grants", "evaluation"})


class ReadOnlyMixin:
    """Put before the ``ModelAdmin`` class: refuses every write whatever the class below allows."""

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request) -> dict:
        return {}


class ReadOnlyAdminSite(admin.AdminSite):
    project_apps = PROJECT_APPS

    def register(self, model_or_iterable, admin_class=None, **options):
        models = [model_or_iterable] if isinstance(model_or_iterable, ModelBase) else list(model_or_iterable)
        shown = [m for m in models if m._meta.app_label in self.project_apps]
        for model in models:
            if model not in shown:
                logger.debug("admin: %s is not a model of the project's apps, not registered", model._meta.label)
        if not shown:
            return
        base = admin_class or admin.ModelAdmin
        read_only = type(f"ReadOnly{base.__name__}", (ReadOnlyMixin, base), {"__module__": base.__module__})
        super().register(shown, read_only, **options)

    def password_change(self, request, extra_context=None):
        return redirect("password-change")

    def password_change_done(self, request, extra_context=None):
        return redirect("home")


class ReadOnlyAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with the site above as ``admin.site``."""

    default_site = "unionfunds.core.adminsite.ReadOnlyAdminSite"
