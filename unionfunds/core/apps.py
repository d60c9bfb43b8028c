from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_change_triggers(using, **kwargs):
    from django.db import connections

    from .changes import ensure_triggers

    ensure_triggers(connections[using])


class CoreConfig(AppConfig):
    name = "unionfunds.core"
    label = "core"
    verbose_name = _("核心")

    def ready(self):
        # SQLite drops a table's triggers when a migration rebuilds it: put back the change triggers.
        post_migrate.connect(_ensure_change_triggers, sender=self, dispatch_uid="core.ensure_change_triggers")
