"""The `major-needs` rule and its parsing: pure values in, violations out."""

from __future__ import annotations

import pytest

from updater.errors import BadInput
from updater.policy import check_jump, is_major_jump, policy_from_mapping
from updater.policy.model import MAJOR_NEEDS, MajorNeeds

POLICY = policy_from_mapping({"major-needs": {"label": "major-ok"}}, source=".updater.yml")


@pytest.mark.parametrize(("old", "new", "major"), [
    ("1.4.2", "2.0.0", True), ("v1.9", "v2.0", True), ("1.4.2", "1.5.0", False), ("2.0.0", "1.0.0", False),
    ("latest", "2.0.0", False), (None, "2.0.0", False), ("1.0.0", "10.0.0", True),
])
def test_major_jump_reads_versions_as_versions(old, new, major):
    assert is_major_jump(old, new) is major


def test_major_jump_without_the_label_is_a_violation_naming_the_rule():
    [violation] = check_jump("1.4.2", "2.0.0", POLICY, labels=("deploy",), on_pr=True, where="a.yaml:3")
    assert violation.rule == MAJOR_NEEDS
    assert "needs label major-ok" in str(violation) and "(policy rule major-needs)" in str(violation)


def test_major_jump_with_the_label_on_a_pr_passes_but_never_without_a_pr():
    assert check_jump("1.4.2", "2.0.0", POLICY, labels=("major-ok",), on_pr=True, where="x") == []
    [violation] = check_jump("1.4.2", "2.0.0", POLICY, labels=("major-ok",), on_pr=False, where="x")
    assert "--mode pr" in violation.detail


def test_reviewer_alternative_and_minor_bumps():
    policy = policy_from_mapping({"major_needs": {"reviewer": "alice", "label": "major-ok"}}, source="f")
    assert policy.major_needs == MajorNeeds(label="major-ok", reviewer="alice")
    assert check_jump("1.0.0", "2.0.0", policy, reviewers=("alice",), on_pr=True, where="x") == []
    assert check_jump("1.0.0", "1.9.0", policy, on_pr=False, where="x") == []


@pytest.mark.parametrize("bad", [{"label": ""}, {}, {"owner": "x"}, "major-ok"])
def test_bad_major_needs_is_bad_input_naming_the_key(bad):
    with pytest.raises(BadInput, match=r"policy\.major-needs"):
        policy_from_mapping({"major-needs": bad}, source=".updater.yml")
