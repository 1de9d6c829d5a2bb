from django.db import migrations

from yizhan.notify.seeding import template_seeder

TEMPLATES = [
    {
        "key": "plan-activated", "name": "应急预案启动", "variables": ["outlet", "plan", "reason", "tasks", "due_on"],
        "text_zh": "{outlet}已启动应急预案“{plan}”（{reason}），请按分工落实 {tasks} 项措施，最早期限 {due_on}。",
        "text_en": "{outlet}: the contingency plan “{plan}” is activated ({reason}); carry out its {tasks} measures, the first by {due_on}.",
    },
    {
        "key": "plan-backup-staff", "name": "应急预案备岗通知", "variables": ["outlet", "plan", "reason", "tasks", "due_on"],
        "text_zh": "你是{outlet}的备岗人员：应急预案“{plan}”已启动（{reason}），请做好到岗准备。",
        "text_en": "You are backup staff for {outlet}: the contingency plan “{plan}” is activated ({reason}); be ready to step in.",
    },
]  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [("operations", "0007_plans_checklists_disinfection"), ("notify", "0002_default_templates")]
    operations = [migrations.RunPython(template_seeder(TEMPLATES), migrations.RunPython.noop)]
