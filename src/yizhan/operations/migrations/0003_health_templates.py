from django.db import migrations

from yizhan.notify.seeding import template_seeder

TEMPLATES = [
    {
        "key": "health-missing", "name": "一日一报未报提醒", "variables": ["day"],
        "text_zh": "您 {day} 的健康日报（一日一报）还没有提交，请尽快在手机上填报。",
        "text_en": "Your daily health report for {day} is still missing; please submit it on your phone.",
    },
    {
        "key": "health-missing-desk", "name": "一日一报缺报汇总", "variables": ["unit", "day", "missing"],
        "text_zh": "{unit} {day} 的健康日报还有 {missing} 人未报，请督促或代为填报。",
        "text_en": "{unit}: {missing} daily health reports for {day} are still missing; please chase or report for them.",
    },
]  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [("operations", "0002_roster_health"), ("notify", "0002_default_templates")]
    operations = [migrations.RunPython(template_seeder(TEMPLATES), migrations.RunPython.noop)]
