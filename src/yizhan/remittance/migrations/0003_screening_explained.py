"""Hits explain themselves (the term that matched, the context of a short one, an exclusion
considered), and the default rules cover what a realistic batch showed they missed: county health
bureaus (卫健局, via the alias 卫健局 ⇄ 卫生健康局), the old names (卫计委, 卫计局, 卫生计生委…), the
English name (Red Cross, also in full-width Latin), a shorthand (卫生健康委) and common typos
(卫建委, 医疗物质, 防疫物质). Data only for the rules; head office edits them afterwards."""

from django.db import migrations, models

# (field, term, category, priority)
RULES = [
    ("payee_name", "卫健局", "卫生健康部门", 80),
    ("payee_name", "卫计委", "卫生健康部门", 80),
    ("payee_name", "卫计局", "卫生健康部门", 75),
    ("payee_name", "Red Cross", "捐赠", 85),
]
ALIASES = [
    ("卫计委", "卫生和计划生育委员会"),
    ("卫计委", "卫生计生委"),
    ("卫计局", "卫生和计划生育局"),
    ("卫计局", "卫生计生局"),
    ("卫健委", "卫生健康委"),
    ("卫健委", "卫建委"),  # typo
    ("医疗物资", "医疗物质"),  # typo
    ("防疫物资", "防疫物质"),  # typo
]


def seed(apps, schema_editor):
    Rule = apps.get_model("remittance", "Rule")
    Alias = apps.get_model("remittance", "Alias")
    Rule.objects.bulk_create(
        [Rule(field=f, term=t, category=c, priority=p) for f, t, c, p in RULES], ignore_conflicts=True
    )
    for a, b in ALIASES:
        if not Alias.objects.filter(models.Q(term_a=a, term_b=b) | models.Q(term_a=b, term_b=a)).exists():
            Alias.objects.create(term_a=a, term_b=b)


def unseed(apps, schema_editor):
    Alias = apps.get_model("remittance", "Alias")
    for a, b in ALIASES:
        Alias.objects.filter(term_a=a, term_b=b).delete()
    apps.get_model("remittance", "Rule").objects.filter(
        field__in=[f for f, _t, _c, _p in RULES], term__in=[t for _f, t, _c, _p in RULES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("remittance", "0002_default_rules")]
    operations = [
        migrations.AddField(
            model_name="hit",
            name="matched_term",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="hit",
            name="context",
            field=models.CharField(blank=True, max_length=16),
        ),
        migrations.AddField(
            model_name="hit",
            name="exclusion_term",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.RunPython(seed, unseed),
    ]
