from django.db import migrations

from yizhan.notify.seeding import template_seeder

TEMPLATE = {
    "key": "case-overdue", "name": "服务案件逾期", "variables": ["case", "unit", "days"],
    "text_zh": "{unit}的服务案件“{case}”已逾期 {days} 个工作日，请督办。",
    "text_en": "The service case “{case}” at {unit} is {days} working days overdue; please follow it up.",
}  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial"), ("notify", "0002_default_templates")]
    operations = [migrations.RunPython(template_seeder([TEMPLATE]), migrations.RunPython.noop)]
