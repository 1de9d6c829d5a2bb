from django.db import migrations

from yizhan.notify.seeding import template_seeder

TEMPLATE = {
    "key": "mobile-visit-cancelled", "name": "移动驿站到访取消", "variables": ["station", "place", "when", "notice"],
    "text_zh": "{station}原定 {when} 到“{place}”的服务已取消：{notice}",
    "text_en": "{station}'s visit to “{place}” at {when} is cancelled: {notice}",
}  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [("mobile", "0001_initial"), ("notify", "0002_default_templates")]
    operations = [migrations.RunPython(template_seeder([TEMPLATE]), migrations.RunPython.noop)]
