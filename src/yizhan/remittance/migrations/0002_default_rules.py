"""The default screening rules from the green-channel practice (DOMAIN.md): head office edits
them afterwards in the back office. Data only; no app code is imported here."""

from django.db import migrations

# (field, term, category, priority)
RULES = [
    ("payee_name", "红十字会", "捐赠", 90),
    ("payee_name", "红十字", "捐赠", 85),
    ("payee_name", "红会", "捐赠", 85),
    ("payee_name", "慈善总会", "捐赠", 80),
    ("payee_name", "慈善基金会", "捐赠", 70),
    ("payee_name", "卫健委", "卫生健康部门", 80),
    ("payee_name", "卫生健康委员会", "卫生健康部门", 80),
    ("payee_name", "卫生局", "卫生健康部门", 75),
    ("payee_name", "疾控", "卫生健康部门", 75),
    ("payee_name", "疫情防控指挥部", "卫生健康部门", 80),
    ("payee_name", "医院", "医疗机构", 40),
    ("payee_name", "卫生院", "医疗机构", 40),
    ("payee_name", "医疗器械", "医疗物资", 55),
    ("purpose", "采购医疗物资", "医疗物资", 80),
    ("purpose", "医疗物资", "医疗物资", 75),
    ("purpose", "防疫物资", "医疗物资", 75),
    ("purpose", "口罩", "医疗物资", 70),
    ("purpose", "防护服", "医疗物资", 70),
    ("purpose", "消毒", "医疗物资", 50),
    ("purpose", "捐款", "捐赠", 85),
    ("purpose", "捐赠", "捐赠", 85),
    ("purpose", "抗疫", "捐赠", 70),
    ("purpose", "红十字会", "捐赠", 80),
]
ALIASES = [
    ("红会", "红十字会"),
    ("卫健委", "卫生健康委员会"),
    ("疾控", "疾病预防控制"),
    ("卫健局", "卫生健康局"),
]
# Contexts that are not what the rules mean: streets named after the Red Cross, an accountant
# called 李红 (李红会计师事务所 contains 红会), streets named after a hospital.
EXCLUSIONS = [
    ("红十字路", "路名"),
    ("红十字街", "街名"),
    ("红十字大道", "路名"),
    ("红十字巷", "巷名"),
    ("红会计", "会计师事务所（如 李红会计师事务所）"),
    ("医院路", "路名"),
    ("医院街", "街名"),
]


def seed(apps, schema_editor):
    Rule = apps.get_model("remittance", "Rule")
    Alias = apps.get_model("remittance", "Alias")
    Exclusion = apps.get_model("remittance", "Exclusion")
    Rule.objects.bulk_create(
        [Rule(field=f, term=t, category=c, priority=p) for f, t, c, p in RULES], ignore_conflicts=True
    )
    Alias.objects.bulk_create([Alias(term_a=a, term_b=b) for a, b in ALIASES])
    Exclusion.objects.bulk_create([Exclusion(term=t, note=n) for t, n in EXCLUSIONS])


def unseed(apps, schema_editor):
    apps.get_model("remittance", "Exclusion").objects.filter(term__in=[t for t, _n in EXCLUSIONS]).delete()
    apps.get_model("remittance", "Alias").objects.filter(term_a__in=[a for a, _b in ALIASES]).delete()
    apps.get_model("remittance", "Rule").objects.filter(term__in=[t for _f, t, _c, _p in RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("remittance", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
