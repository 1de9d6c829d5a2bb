from django.db import migrations

from yizhan.notify.seeding import template_seeder

# Kept here, not imported from the app: a migration must not change when the app's code does.
TRIGGERS = {
    "sqlite": [
        "CREATE TRIGGER supplies_entry_no_update BEFORE UPDATE ON supplies_entry "
        "BEGIN SELECT RAISE(ABORT, 'supplies_entry is append-only'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION supplies_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'supplies_entry is append-only'; END $$",
        "CREATE TRIGGER supplies_entry_append_only BEFORE UPDATE OR DELETE ON supplies_entry "
        "FOR EACH ROW EXECUTE FUNCTION supplies_entry_append_only()",
    ],
}
DROP = {
    "sqlite": ["DROP TRIGGER IF EXISTS supplies_entry_no_update"],
    "postgresql": [
        "DROP TRIGGER IF EXISTS supplies_entry_append_only ON supplies_entry",
        "DROP FUNCTION IF EXISTS supplies_entry_append_only()",
    ],
}

TEMPLATES = [
    {
        "key": "supplies-low", "name": "物资低于最低库存", "variables": ["unit", "item", "qty", "uom", "minimum"],
        "text_zh": "{unit}的{item}库存为 {qty}{uom}，低于最低库存 {minimum}{uom}，请及时补货。",
        "text_en": "{unit} has {qty} {uom} of {item} left, below its minimum of {minimum}; please restock.",
    },
    {
        "key": "supplies-expiry", "name": "物资批次即将过期", "variables": ["unit", "item", "qty", "uom", "date"],
        "text_zh": "{unit}的{item}有 {qty}{uom} 将于 {date} 过期，请先行使用或报损。",
        "text_en": "At {unit}, {qty} {uom} of {item} expire on {date}; use them first or write them off.",
    },
]  # fmt: skip


def triggers(apps, schema_editor):
    for sql in TRIGGERS.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


def drop_triggers(apps, schema_editor):
    for sql in DROP.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("supplies", "0001_initial"), ("notify", "0002_default_templates")]
    operations = [
        migrations.RunPython(triggers, drop_triggers),
        migrations.RunPython(template_seeder(TEMPLATES), migrations.RunPython.noop),
    ]
