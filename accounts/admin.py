from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from .models import OrgUnit, Team, TeamMembership, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (
            _("Service desk"),
            {"fields": ("display_name", "unit", "phone", "is_away", "managed_units")},
        ),
    )
    list_display = ("username", "display_name", "email", "unit", "is_away", "is_staff")
    list_filter = ("groups", "is_away", "is_staff", "unit")
    search_fields = ("username", "display_name", "email")
    filter_horizontal = ("groups", "user_permissions", "managed_units")


@admin.register(OrgUnit)
class OrgUnitAdmin(TreeAdmin):
    form = movenodeform_factory(OrgUnit)
    list_display = ("name", "name_zh", "code", "kind")
    search_fields = ("name", "name_zh", "code")


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 1
    autocomplete_fields = ("user",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "name_zh",
        "tier",
        "lead",
        "assignment_strategy",
        "is_on_duty",
        "escalates_to",
    )
    list_filter = ("tier", "assignment_strategy", "is_on_duty")
    search_fields = ("code", "name", "name_zh")
    inlines = [TeamMembershipInline]
    autocomplete_fields = ("lead",)
