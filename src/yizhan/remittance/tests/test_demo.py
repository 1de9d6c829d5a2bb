"""The demo batch (built small for the test database): hits, duplicates, traps left alone, and
work in every state."""

from yizhan.remittance.demo import TRAPS
from yizhan.remittance.models import Batch, Instruction


def test_demo_batch(db):
    batch = Batch.objects.get(name="春节假期延时汇款指令（演示）")
    instructions = Instruction.objects.filter(batch=batch)
    assert 350 <= instructions.count() <= 450
    assert instructions.filter(hit_count__gt=0).count() >= 30
    assert instructions.filter(dup_group__isnull=False).count() >= 10
    assert batch.duplicate_groups.filter(kind="same_id").exists()
    # the traps contain keywords but are not what the rules mean
    traps = instructions.filter(payee_name__in=[payee for payee, _purpose in TRAPS])
    assert traps.exists() and not traps.filter(hit_count__gt=0).exists()
    salaries = instructions.filter(payer_name="三明市第一医院", payee_name__regex=r"^[^医]+$")
    assert salaries.exists() and not salaries.filter(hit_count__gt=0).exists()
    union = instructions.filter(payee_name="三明市第一医院工会委员会")
    assert union.exists() and all(i.hit_count == 0 and i.allowed_by_id for i in union)
    # Sanming's manager is part-way through the list
    states = set(instructions.values_list("state", flat=True))
    assert states == {"open", "pending_approval", "decided"}
    assert instructions.filter(claimed_by__username="sm_manager", state="open").exists()
    assert instructions.filter(decision="delete_duplicate").exists()
