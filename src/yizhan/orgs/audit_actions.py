"""Labels for the audit events the org tree, staff and tokens record (yizhan.audit.registry)."""

from django.utils.translation import gettext_lazy as _

from yizhan.audit.registry import register

register(
    {
        "unit.created": _("Unit created"),
        "unit.updated": _("Unit changed"),
        "unit.moved": _("Unit moved"),
        "api_token.created": _("API token created"),
        "api_token.revoked": _("API token revoked"),
        "demo.built": _("Demo network built"),
    },
    fields={
        "path": _("place in the tree"),
        "revoked_at": _("revoked at"),
        "seed": _("random seed"),
        "outlets": _("outlets"),
        "username": _("username"),
        "is_active": _("active"),
    },
)
# A staff event is recorded on the user; its diff names the membership's unit and role.
register(
    {"staff.created": _("Staff member added"), "staff.updated": _("Staff member changed")},
    model="orgs.membership",
)
