"""`{% holiday_coverage_warning as warning %}`: the missing-holiday-data warning, or ""."""

from django import template

from sla.holidays import coverage_warning, refresh_official_schedules

register = template.Library()


@register.simple_tag
def holiday_coverage_warning() -> str:
    refresh_official_schedules()
    return coverage_warning()
