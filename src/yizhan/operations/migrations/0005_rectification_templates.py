from django.db import migrations

from yizhan.notify.seeding import template_seeder

TEMPLATES = [
    {
        "key": "rectification-opened", "name": "整改通知", "variables": ["outlet", "title", "due_on"],
        "text_zh": "{outlet}需整改：{title}，请于 {due_on} 前完成并反馈。",
        "text_en": "{outlet} must put right: {title}, by {due_on}; please respond when done.",
    },
    {
        "key": "rectification-overdue", "name": "整改逾期上报", "variables": ["outlet", "title", "due_on"],
        "text_zh": "{outlet}的整改事项“{title}”已逾期（期限 {due_on}），请督办。",
        "text_en": "{outlet}'s rectification “{title}” is overdue (due {due_on}); please follow it up.",
    },
]  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [("operations", "0004_inspections_rectifications"), ("notify", "0002_default_templates")]
    operations = [migrations.RunPython(template_seeder(TEMPLATES), migrations.RunPython.noop)]
