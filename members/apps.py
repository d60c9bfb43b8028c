from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = "区划、账号与工会"
