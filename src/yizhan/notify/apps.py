from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "yizhan.notify"
    verbose_name = _("Notifications")

    def ready(self):
        from yizhan.core.nav import NavItem, register

        register(NavItem("broadcasts", _("Messages to staff"), "notify:broadcasts", order=85, perm="admin"))
        register(
            NavItem("campaigns", _("Pension-day invitations"), "notify:campaigns", order=86, perm="admin")
        )
        register(NavItem("outbox", _("Outbox"), "notify:outbox", order=93, perm="admin"))
        register(NavItem("templates", _("Message templates"), "notify:templates", order=94, perm="admin"))
        register(NavItem("consents", _("Consent records"), "notify:consents", order=95, perm="change"))
