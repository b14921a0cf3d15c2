"""Request types, problem categories, information systems and their modules."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node

from accounts.choices import Tier
from accounts.models import Team
from servicedesk.models import LocalizedNameMixin

from .choices import Flow


class RequestType(LocalizedNameMixin):
    """A service-request type (咨询, 缺陷, 故障, ...). `entry_tier` is where routing sends it first:
    defects, faults and changes go straight to the middle office; the rest start at the front."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    entry_tier = models.CharField(_("entry tier"), max_length=10, choices=Tier.choices)
    flow = models.CharField(_("flow"), max_length=20, choices=Flow.choices)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("request type")
        verbose_name_plural = _("request types")
        ordering = ["sort_order", "code"]


class Category(MP_Node, LocalizedNameMixin):
    """A problem category (问题类型) in a configurable tree: network fault › VPN, ..."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    node_order_by = ["code"]

    class Meta:
        verbose_name = _("problem category")
        verbose_name_plural = _("problem categories")


class InformationSystem(LocalizedNameMixin):
    """An information system of the organisation (信息系统), owned by one back-office team."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    owner_team = models.ForeignKey(
        Team,
        verbose_name=_("owning team"),
        on_delete=models.PROTECT,
        related_name="owned_systems",
        limit_choices_to={"tier": Tier.BACK},
    )
    is_core = models.BooleanField(
        _("core business system"),
        default=False,
        help_text=_("An outage of a core system is a P1 fault."),
    )
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("information system")
        verbose_name_plural = _("information systems")
        ordering = ["code"]


class SystemModule(LocalizedNameMixin):
    """A module of an information system (模块)."""

    system = models.ForeignKey(
        InformationSystem,
        verbose_name=_("system"),
        on_delete=models.CASCADE,
        related_name="modules",
    )
    code = models.SlugField(_("code"), max_length=60)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("system module")
        verbose_name_plural = _("system modules")
        ordering = ["system", "code"]
        constraints = [
            models.UniqueConstraint(fields=["system", "code"], name="system_module_code_unique")
        ]
