"""The demo reads as the articles tell it."""

import pytest

from yizhan.cases.models import Case, RuleProposal

pytestmark = pytest.mark.django_db


def test_the_three_stories_are_closed_cases_and_one_open_case_is_overdue():
    fraud = Case.objects.get(unit__code="SZ-GM", case_type="fraud")
    assert fraud.status == "closed" and fraud.outcome == "protected" and fraud.amount_protected > 0
    assert fraud.police_reference and fraud.person_name == "刘先生"
    assert fraud.steps.count() == 4 and not fraud.steps.filter(done_at__isnull=True).exists()
    assert Case.objects.get(unit__code="SZ-FM").status == "closed"
    assert "优待证" in Case.objects.get(unit__code="SZ-YC").title
    assert Case.objects.open().count() >= 3
    assert Case.objects.overdue().count() == 1
    assert RuleProposal.objects.filter(case=fraud, term="安全账户").exists()
    for case in Case.objects.all():
        assert case.masked_name not in case.title or not case.person_name
