from django.db import migrations

from yizhan.notify.seeding import template_seeder

TEMPLATE = {
    "key": "certificate-expiring", "name": "证书即将到期", "variables": ["person", "certificate", "expires_on", "next_session"],
    "text_zh": "{person}的“{certificate}”将于 {expires_on} 到期。可复训的下一期培训：{next_session}。",
    "text_en": "{person}'s certificate “{certificate}” expires on {expires_on}. Next session to renew it: {next_session}.",
}  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [("training", "0001_initial"), ("notify", "0002_default_templates")]
    operations = [migrations.RunPython(template_seeder([TEMPLATE]), migrations.RunPython.noop)]
