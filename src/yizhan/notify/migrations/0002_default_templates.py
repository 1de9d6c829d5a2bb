from django.db import migrations

from yizhan.notify.seeding import template_seeder

TEMPLATES = [
    {
        "key": "notice", "name": "工作通知", "variables": ["text"],
        "text_zh": "{text}", "text_en": "{text}",
    },
    {
        "key": "feedback-overdue", "name": "问题反馈逾期", "variables": ["station", "days"],
        "text_zh": "{station}的问题反馈已逾期 {days} 天，请尽快处理。",
        "text_en": "A problem report at {station} is {days} days overdue; please handle it.",
    },
    {
        "key": "pension-day", "name": "养老金发放日分流", "variables": ["outlet", "date", "window"], "topic": "pension-day",
        "text_zh": "您好，{outlet}请您于{date} {window}办理养老金业务，避开高峰少排队。回复TD退订",
        "text_en": "{outlet} invites you on {date}, {window}, for your pension: a shorter queue. Reply TD to stop.",
        "sms_template_code": "SMS_000000000", "sms_signature": "工行驿站",
    },
]  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [("notify", "0001_initial")]
    operations = [migrations.RunPython(template_seeder(TEMPLATES), migrations.RunPython.noop)]
