"""The admin is a read-only window for operators: every change goes through the services (and the
audit trail), so nothing here can add, change or delete. Personal data appears only masked."""

from django.contrib import admin

from .models import Member, Region, Union, User


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Region)
class RegionAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "level", "parent", "federation_name"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    list_select_related = ["parent"]  # nullable, so the admin's default select_related() leaves it out


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ["username", "role", "region", "union", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["username"]
    list_select_related = ["region", "union"]
    fields = ["username", "role", "region", "union", "is_active", "is_staff", "last_login", "date_joined"]


@admin.register(Union)
class UnionAdmin(ReadOnlyAdmin):
    list_display = ["name", "credit_code", "county", "org_form", "status"]
    list_filter = ["status", "org_form"]
    search_fields = ["name", "credit_code"]
    list_select_related = ["county"]
    # Bank account and contact phone only masked.
    fields = [
        "name",
        "credit_code",
        "org_form",
        "county",
        "parent_level",
        "covered_groups",
        "chair_name",
        "chair_elected_on",
        "chair_term_years",
        "committee_size",
        "founded_on",
        "funds_hard_to_guarantee",
        "bank_name",
        "bank_account_masked",
        "contact_name",
        "contact_phone_masked",
        "status",
        "verified_at",
    ]
    readonly_fields = fields


@admin.register(Member)
class MemberAdmin(ReadOnlyAdmin):
    list_display = ["name", "id_number_masked", "phone_masked", "union", "group", "joined_on", "left_on"]
    list_filter = ["group"]
    search_fields = ["name", "union__name"]
    list_select_related = ["union"]
    fields = [
        "union",
        "name",
        "id_number_masked",
        "gender",
        "phone_masked",
        "group",
        "platform",
        "joined_on",
        "left_on",
    ]
    readonly_fields = fields


# django-otp and django-oauth-toolkit register admin pages of their own that show and edit TOTP keys,
# recovery codes, client applications and tokens. Those are managed through the services (enrolment,
# reset, client registration and revocation, each audited); they have no place in an admin page.
def _unregister_library_admins() -> None:
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from oauth2_provider import models as oauth

    for model in (
        TOTPDevice,
        StaticDevice,
        oauth.get_application_model(),
        oauth.get_access_token_model(),
        oauth.get_refresh_token_model(),
        oauth.get_grant_model(),
        oauth.get_id_token_model(),
    ):
        if admin.site.is_registered(model):
            admin.site.unregister(model)


_unregister_library_admins()
