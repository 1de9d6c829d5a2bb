"""The demo network: each app adds its part, in this order, from one seeded random source."""

import importlib
import importlib.util
import random
from dataclasses import dataclass, field

from django.db import transaction

DEMO_STEPS = [
    "yizhan.orgs.demo",
    "yizhan.stations.demo",
    "yizhan.visits.demo",
    "yizhan.remittance.demo",
    "yizhan.supplies.demo",
    "yizhan.cases.demo",
    "yizhan.notify.demo",
    "yizhan.events.demo",
    "yizhan.locator.demo",
    "yizhan.planning.demo",
    "yizhan.operations.demo",
    "yizhan.training.demo",
]
DEFAULT_SEED = 2023
DEMO_PASSWORD = "yizhan-demo-2026"


@dataclass
class DemoContext:
    seed: int = DEFAULT_SEED
    small: bool = False  # tests build a reduced network to stay quick
    log: callable = print
    data: dict = field(default_factory=dict)

    def rng(self, name: str) -> random.Random:
        # One stream per step, so a step added later never shifts what the earlier ones built.
        return random.Random(f"{self.seed}:{name}")


def build(ctx: DemoContext) -> None:
    from django.utils import timezone

    from yizhan.audit.services import audit_via

    # The demo's audit events are the system's, not a web user's.
    with audit_via("system"):
        for module_name in DEMO_STEPS:
            if importlib.util.find_spec(module_name) is None:
                continue
            module = importlib.import_module(module_name)
            # One transaction per step: a step is there whole or not at all, with its audit events.
            with transaction.atomic():
                module.build(ctx)
    # Nothing the demo writes may lie after this moment (a test holds every app to it).
    ctx.data["built_at"] = timezone.now()
