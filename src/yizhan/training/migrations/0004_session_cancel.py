from django.db import migrations, models

from yizhan.notify.seeding import template_seeder

TEMPLATES = [
    {
        "key": "training-session-moved", "name": "培训时间变更", "variables": ["course", "was", "now", "where"],
        "text_zh": "您受邀参加的培训“{course}”由 {was} 改为 {now}，地点：{where}。",
        "text_en": "The training “{course}” you are invited to moves from {was} to {now}, at {where}.",
    },
    {
        "key": "training-session-cancelled", "name": "培训取消", "variables": ["course", "when", "reason"],
        "text_zh": "您受邀参加的培训“{course}”（{when}）已取消：{reason}",
        "text_en": "The training “{course}” you were invited to ({when}) is cancelled: {reason}",
    },
]  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0003_drill_plan"),
        ("notify", "0002_default_templates"),
    ]

    operations = [
        migrations.AddField(
            model_name="session",
            name="cancel_reason",
            field=models.CharField(blank=True, max_length=200, verbose_name="reason for cancelling"),
        ),
        migrations.AddField(
            model_name="session",
            name="cancelled_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="cancelled at"),
        ),
        migrations.RunPython(template_seeder(TEMPLATES), migrations.RunPython.noop),
    ]
