"""What each role may do, as explicit capability permissions on `accounts.User`.

The data migration `0002_roles` creates one group per role with exactly these permissions;
tests read the same table, so the table is the single statement of who may do what.
"""

from .choices import Role

# codename -> English description (the permission's name in the admin).
CAPABILITIES: dict[str, str] = {
    "submit_request": "Can submit requests on the portal",
    "handle_tickets": "Can work tickets in the agent workspace",
    "log_on_behalf": "Can log a phone or IM request on behalf of a requester",
    "dispatch_tickets": "Can dispatch and escalate tickets between teams and tiers",
    "verify_fixes": "Can verify a back-office fix",
    "resolve_tickets": "Can resolve tickets",
    "override_priority": "Can override a ticket's priority",
    "manage_incidents": "Can publish fault and recovery announcements",
    "inspect_quality": "Can score closed tickets in quality inspection",
    "make_return_visits": "Can record return visits",
    "manage_knowledge": "Can write and review knowledge articles",
    "view_reports": "Can read SLA dashboards and reports",
    "view_all_tickets": "Can see every ticket",
    "configure_desk": "Can configure taxonomy, teams, routing, SLAs and integrations",
}

_AGENT = {"handle_tickets", "resolve_tickets", "manage_knowledge"}

ROLE_CAPABILITIES: dict[str, set[str]] = {
    Role.REQUESTER: {"submit_request"},
    Role.FRONT_TIER1: _AGENT | {"log_on_behalf", "dispatch_tickets", "make_return_visits"},
    Role.FRONT_TIER2: _AGENT
    | {"log_on_behalf", "dispatch_tickets", "make_return_visits", "override_priority"},
    Role.MIDDLE_EXPERT: _AGENT
    | {"dispatch_tickets", "verify_fixes", "override_priority", "manage_incidents"},
    Role.BACK_ENGINEER: _AGENT,
    Role.QA_INSPECTOR: {"inspect_quality", "make_return_visits", "view_reports"},
    Role.MANAGER: {"view_reports", "override_priority", "manage_knowledge"},
    Role.ADMINISTRATOR: set(CAPABILITIES),
}

AGENT_ROLES = (Role.FRONT_TIER1, Role.FRONT_TIER2, Role.MIDDLE_EXPERT, Role.BACK_ENGINEER)


def sync_role_groups(group_model, permission_model, content_type_model) -> None:
    """Create the role groups and give each exactly its capabilities (idempotent).

    Takes the model classes so the data migration can pass its historical models.
    """
    user_type, _ = content_type_model.objects.get_or_create(app_label="accounts", model="user")
    permissions = {}
    for codename, name in CAPABILITIES.items():
        permission, _ = permission_model.objects.get_or_create(
            content_type=user_type, codename=codename, defaults={"name": name}
        )
        permissions[codename] = permission
    for role, codenames in ROLE_CAPABILITIES.items():
        group, _ = group_model.objects.get_or_create(name=str(role.value))
        group.permissions.set([permissions[c] for c in sorted(codenames)])
