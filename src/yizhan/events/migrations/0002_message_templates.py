from django.db import migrations

from yizhan.notify.seeding import template_seeder

# The messages this app sends through notify(); the public receive them only with the "events"
# consent the sign-up form records.
TEMPLATES = [
    {
        "key": "event-reminder", "name": "活动提醒", "variables": ["event", "station", "time"], "topic": "events",
        "text_zh": "提醒：您报名的“{event}”将于{time}在{station}举行，期待您的到来。回复TD退订",
        "text_en": "Reminder: “{event}” at {station}, {time}. We look forward to seeing you. Reply TD to stop.",
    },
    {
        "key": "event-offer", "name": "候补名额", "variables": ["event", "station", "time", "until", "code"], "topic": "events",
        "text_zh": "“{event}”（{time}，{station}）有空余名额留给您，请于{until}前打开您的报名页确认（确认码{code}）。回复TD退订",
        "text_en": "A place at “{event}” ({time}, {station}) is free for you: confirm on your ticket page by {until} (code {code}). Reply TD to stop.",
    },
    {
        "key": "event-cancelled", "name": "活动取消", "variables": ["event", "station", "time"], "topic": "events",
        "text_zh": "抱歉：“{event}”（{time}，{station}）已取消。回复TD退订",
        "text_en": "Sorry: “{event}” ({time}, {station}) is cancelled. Reply TD to stop.",
    },
    {
        "key": "event-message", "name": "活动消息", "variables": ["event", "text"], "topic": "events",
        "text_zh": "【{event}】{text} 回复TD退订",
        "text_en": "[{event}] {text} Reply TD to stop.",
    },
]  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [("events", "0001_initial"), ("notify", "0002_default_templates")]
    operations = [migrations.RunPython(template_seeder(TEMPLATES), migrations.RunPython.noop)]
