"""Writes of the reports app: the release calendar, detected spikes, repeated-problem snapshots.

The read model itself (facts, rollups) is written only by `reports.rollups`.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import User
from catalog.models import InformationSystem

from .models import Release


def _check_may_edit(actor: User | None) -> None:
    if actor is not None and not (
        actor.has_perm("accounts.configure_desk") or actor.has_perm("accounts.view_reports")
    ):
        raise PermissionDenied(_("Only managers and administrators keep the release calendar."))


def release_create(
    *,
    actor: User | None,
    system: InformationSystem,
    version: str,
    released_on: date,
    notes: str = "",
) -> Release:
    """Record a release of a system. Guards: the actor keeps reports or configures the desk;
    one row per system and version (a repeat is a field error, not a second row)."""
    _check_may_edit(actor)
    version = (version or "").strip()
    if not version:
        raise ValidationError({"version": [_("A version is required.")]})
    try:
        with transaction.atomic():
            return Release.objects.create(
                system=system,
                version=version,
                released_on=released_on,
                notes=notes,
                created_by=actor,
            )
    except IntegrityError as exc:
        raise ValidationError(
            {"version": [_("This version of the system is already in the calendar.")]}
        ) from exc


def release_update(*, actor: User | None, release: Release, **changes) -> Release:
    """Change a release's date, version or notes. Guards as `release_create`."""
    _check_may_edit(actor)
    fields = []
    for name in ("version", "released_on", "notes", "system"):
        if name in changes:
            setattr(release, name, changes[name])
            fields.append(name)
    try:
        with transaction.atomic():
            release.save(update_fields=fields)
    except IntegrityError as exc:
        raise ValidationError(
            {"version": [_("This version of the system is already in the calendar.")]}
        ) from exc
    return release


def release_delete(*, actor: User | None, release: Release) -> None:
    """Remove a release from the calendar; spikes it annotated keep their numbers."""
    _check_may_edit(actor)
    release.delete()
