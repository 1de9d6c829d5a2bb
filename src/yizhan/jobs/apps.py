from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync(sender, **kwargs):
    from yizhan.jobs.schedules import sync

    sync()


class JobsConfig(AppConfig):
    name = "yizhan.jobs"
    verbose_name = _("Jobs")

    def ready(self):
        # Schedules are declared in code; every `migrate` (make run, each deployment) writes them
        # into django-q's table, so nobody keeps them by hand in an admin.
        post_migrate.connect(_sync, sender=self, dispatch_uid="yizhan.jobs.sync_schedules")
        from yizhan.core.nav import NavItem, register

        register(NavItem("jobs", _("Jobs"), "jobs:list", order=92))
        register(NavItem("schedules", _("Scheduled work"), "jobs:schedules", order=96, perm="admin"))
