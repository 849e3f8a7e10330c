"""Staff roles as Django groups, each with the permissions the role needs.

The roles are the ones the design names: a coordinator runs the incident, an agent works
with parties, an approver signs off what goes out, an analyst reads and exports, an admin
does everything.
"""

from django.contrib.auth.models import Group, Permission

COORDINATOR = "coordinator"
AGENT = "agent"
APPROVER = "approver"
ANALYST = "analyst"
ADMIN = "admin"

ROLES: dict[str, list[str]] = {
    COORDINATOR: [
        "incidents.add_incident",
        "incidents.change_incident",
        "incidents.view_incident",
        "incidents.edit_scope",
        "incidents.view_ledger",
        "incidents.export_ledger",
        "registry.add_importrun",
        "registry.view_importrun",
        "registry.view_party",
        "registry.view_product",
        "registry.view_holding",
        "outreach.add_message",
        "outreach.change_message",
        "outreach.view_message",
        "outreach.change_outreachpolicy",
        "outreach.add_wave",
        "outreach.view_wave",
        "outreach.change_wave",
        "outreach.view_delivery",
        "outreach.work_call_list",
        "public.view_publicpage",
        "public.change_publicpage",
        "public.add_update",
        "public.view_update",
        "public.add_action",
        "public.view_question",
        "remedies.view_offer",
        "remedies.manage_offers",
        "remedies.view_claim",
        "remedies.decide_claim",
        "remedies.fulfil_claim",
    ],
    AGENT: [
        "incidents.view_incident",
        "incidents.view_ledger",
        "registry.view_party",
        "registry.view_product",
        "registry.view_holding",
        "outreach.view_message",
        "outreach.view_wave",
        "outreach.view_delivery",
        "outreach.work_call_list",
        "public.view_publicpage",
        "public.view_question",
        "remedies.view_offer",
        "remedies.view_claim",
        "remedies.decide_claim",
        "remedies.fulfil_claim",
    ],
    APPROVER: [
        "incidents.view_incident",
        "incidents.view_ledger",
        "outreach.view_message",
        "outreach.approve_message",
        "public.view_publicpage",
        "public.view_update",
        "public.publish_update",
        "outreach.view_wave",
        "registry.view_product",
    ],
    ANALYST: [
        "incidents.view_incident",
        "incidents.view_ledger",
        "incidents.export_ledger",
        "registry.view_importrun",
        "registry.view_product",
        "outreach.view_message",
        "outreach.view_wave",
        "outreach.view_delivery",
        "remedies.view_offer",
        "remedies.view_claim",
    ],
    ADMIN: ["*"],
}


def ensure_roles() -> dict[str, Group]:
    """Create or refresh the role groups; safe to run any number of times."""
    groups = {}
    every = Permission.objects.filter(
        content_type__app_label__in=[
            "incidents",
            "registry",
            "audit",
            "staff",
            "outreach",
            "public",
            "remedies",
        ]
    )
    for name, codes in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        if codes == ["*"]:
            perms = list(every)
        else:
            perms = []
            for code in codes:
                app_label, codename = code.split(".")
                perms.extend(every.filter(content_type__app_label=app_label, codename=codename))
        group.permissions.set(perms)
        groups[name] = group
    return groups
