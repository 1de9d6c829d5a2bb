"""Demo pensioners who opted in to the pension-day invitations (seeds/004: Sanming's outlets
steering elderly customers away from the pension-day peak), at two Sanming outlets and one in
Shenyang, so /manage/campaigns/ has someone to schedule. The numbers are made up (170…)."""

from yizhan.core.demo import DemoContext
from yizhan.notify import services
from yizhan.orgs.models import Unit

PENSIONERS = {"FJ-SM-LD": 4, "FJ-SM-SY": 3, "LN-SY-HN": 3}


def build(ctx: DemoContext) -> None:
    from yizhan.notify.models import Template

    if not Template.objects.filter(topic="pension-day").exists():
        # The template is seeded by a migration; a test database a transactional test flushed has
        # none, and its rebuilt demo does without the pensioners.
        ctx.log("Notifications: no pension-day template, no demo pensioners.")
        return
    outlets = Unit.objects.in_bulk(list(PENSIONERS), field_name="code")
    serial = 0
    for code, count in PENSIONERS.items():
        for _n in range(count):
            serial += 1
            services.record_consent(address=f"1700000{serial:04d}", topic="pension-day",
                                    how="柜台签署纸质同意书（演示）", unit=outlets[code])  # fmt: skip
    ctx.log(f"Notifications: {serial} pensioners opted in to pension-day invitations.")
