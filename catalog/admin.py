from django.contrib import admin
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from .models import Category, InformationSystem, RequestType, SystemModule


@admin.register(RequestType)
class RequestTypeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_zh", "entry_tier", "flow", "sort_order", "is_active")
    list_editable = ("sort_order", "is_active")
    search_fields = ("code", "name", "name_zh")


@admin.register(Category)
class CategoryAdmin(TreeAdmin):
    form = movenodeform_factory(Category)
    list_display = ("name", "name_zh", "code", "is_active")
    search_fields = ("code", "name", "name_zh")


class SystemModuleInline(admin.TabularInline):
    model = SystemModule
    extra = 1


@admin.register(InformationSystem)
class InformationSystemAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_zh", "owner_team", "is_core", "is_active")
    list_filter = ("owner_team", "is_core", "is_active")
    search_fields = ("code", "name", "name_zh")
    inlines = [SystemModuleInline]
