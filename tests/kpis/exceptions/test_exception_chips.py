"""The exception chips: every kind, status and level has its own tone and label."""

import pytest

from kpis.choices import EscalationLevel, ExceptionKind, ExceptionStatus
from kpis.templatetags.exception_tags import TONES, exception_chip


@pytest.mark.parametrize(
    ("what", "choices"),
    [("kind", ExceptionKind), ("status", ExceptionStatus), ("level", EscalationLevel)],
)
def test_every_value_has_a_tone(what, choices):
    assert set(TONES[what]) == set(choices.values)


def test_a_breached_contract_is_a_danger_chip_with_its_label():
    assert exception_chip("kind", ExceptionKind.CONTRACT_BREACHED) == (
        '<span class="badge badge-danger exception-kind" data-kind="contract_breached">'
        "Contract breached</span>"
    )
