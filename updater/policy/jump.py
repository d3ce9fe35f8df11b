"""The `major-needs` rule: a major version jump (1.x -> 2.x) needs a label or reviewer on the pull
request that proposes it, else it is refused. Bump time only (the agent sees one version, never a
jump). Pure: values in, violations out; versions read as `updater.versions` reads them.
"""

from __future__ import annotations

from collections.abc import Sequence

from updater.policy.model import MAJOR_NEEDS, Policy, Violation
from updater.versions import parse_version


def is_major_jump(old_tag: str | None, new_tag: str | None) -> bool:
    """True when both tags read as versions and the new one's first number is higher."""
    old, new = parse_version(old_tag or ""), parse_version(new_tag or "")
    if old is None or new is None or not old.release or not new.release:
        return False
    return new.release[0] > old.release[0]


def check_jump(old_tag: str | None, new_tag: str | None, policy: Policy, *, labels: Sequence[str] = (),
               reviewers: Sequence[str] = (), on_pr: bool, where: str, image: str = "") -> list[Violation]:
    """The violation of `major-needs` by moving `where` from `old_tag` to `new_tag`, if any. Without a
    pull request (`on_pr` false: local or push mode) nothing can carry the label, so a major jump is refused."""
    needs = policy.major_needs
    if needs is None or not is_major_jump(old_tag, new_tag) or policy.exempt(MAJOR_NEEDS, image=image or None):
        return []
    wanted = " or ".join(part for part in (needs.label and f"label {needs.label}",
                                           needs.reviewer and f"reviewer {needs.reviewer}") if part)
    if on_pr and ((needs.label is not None and needs.label in labels)
                  or (needs.reviewer is not None and needs.reviewer in reviewers)):
        return []
    how = "add it (--label/--reviewer)" if on_pr else "propose it as a pull request (--mode pr) with it"
    return [Violation(MAJOR_NEEDS, where, f"major version jump {old_tag} -> {new_tag} needs {wanted}; {how}")]
