from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MobileConfig(AppConfig):
    name = "yizhan.mobile"
    verbose_name = _("Mobile stations")

    def ready(self):
        from yizhan.core.nav import NavItem, register

        register(NavItem("mobile", _("Mobile stations"), "mobile:list", order=22))
