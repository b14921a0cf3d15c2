"""Admin of the official holiday schedules: the list, the yearly import, coverage warnings."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .holidays import (
    YEAR_RANGE,
    OfficialScheduleDate,
    ScheduleError,
    coverage_warning,
    official_schedule_import,
    parse_schedule,
    refresh_official_schedules,
)

MAX_FILE_BYTES = 512 * 1024


class HolidayCoverageWarningMixin:
    """Shows the missing-holiday-data warning on a ModelAdmin's list and change pages."""

    def _warn_about_coverage(self, request) -> None:
        refresh_official_schedules()
        warning = coverage_warning()
        if warning:
            messages.warning(request, warning)

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":
            self._warn_about_coverage(request)
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            self._warn_about_coverage(request)
        return super().change_view(request, object_id, form_url, extra_context)


class ScheduleImportForm(forms.Form):
    year = forms.IntegerField(
        label=gettext_lazy("Year"), min_value=YEAR_RANGE.start, max_value=YEAR_RANGE.stop - 1
    )
    file = forms.FileField(
        label=gettext_lazy("Schedule file"),
        help_text=gettext_lazy(
            "An iCalendar file (.ics) with one all-day event per holiday period and per make-up "
            "working day (a summary with 班 / make-up marks a working day), or a text list: "
            "'2027-02-06..2027-02-12 holiday 春节', '2027-02-14 workday 春节调休'."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise ValidationError(_("The file is larger than 512 KB."))
        try:
            entries = parse_schedule(upload.read(), upload.name)
        except ScheduleError as exc:
            raise ValidationError(str(exc)) from exc
        if not entries:
            raise ValidationError(_("The file lists no date."))
        self.entries = entries
        return upload


@admin.register(OfficialScheduleDate)
class OfficialScheduleDateAdmin(HolidayCoverageWarningMixin, admin.ModelAdmin):
    list_display = ("date", "kind", "name", "year", "imported_by", "imported_at")
    list_filter = ("year", "kind")
    search_fields = ("name",)
    date_hierarchy = "date"
    change_list_template = "admin/sla/officialscheduledate/change_list.html"
    readonly_fields = ("year", "imported_by", "imported_at", "source")

    def get_urls(self):
        urls = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="sla_officialscheduledate_import",
            )
        ]
        return urls + super().get_urls()

    def import_view(self, request):
        """Upload a year's official schedule; it replaces that year's imported dates."""
        if not self.has_add_permission(request) or not self.has_delete_permission(request):
            raise PermissionDenied
        form = ScheduleImportForm(
            request.POST or None,
            request.FILES or None,
            initial={"year": timezone.localdate().year + 1},
        )
        if request.method == "POST" and form.is_valid():
            year = form.cleaned_data["year"]
            try:
                count = official_schedule_import(
                    year=year,
                    entries=form.entries,
                    actor=request.user,
                    source=form.cleaned_data["file"].name,
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(
                    request,
                    _("The official schedule of %(year)d was imported: %(count)d dates.")
                    % {"year": year, "count": count},
                )
                return redirect(
                    reverse("admin:sla_officialscheduledate_changelist") + f"?year={year}"
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import an official holiday schedule"),
            "form": form,
        }
        return TemplateResponse(
            request,
            "admin/sla/officialscheduledate/import.html",
            context,
            status=400 if form.is_bound and not form.is_valid() else 200,
        )
