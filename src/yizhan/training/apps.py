from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrainingConfig(AppConfig):
    name = "yizhan.training"
    verbose_name = _("Training and drills")

    def ready(self):
        from yizhan.core.nav import NavItem, register, register_panel
        from yizhan.training.panels import training_panel

        register(NavItem("training", _("Training and drills"), "training:dashboard", order=75))
        register_panel("training", training_panel, order=75)
