from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "unionfunds.core"
    label = "core"
    verbose_name = "核心"
