"""The repository's `.updater.yml` `policy:` checked on a bump plan, before anything is written or
pushed: the images requested (allowed registries per environment, tag patterns, digest required) and
each change's jump (`major-needs`). The rules are `updater.policy`'s, so one rule means the same as in
the agent; at bump time the target's *environment* stands where the agent uses the namespace (in
`allowed-registries[].namespaces` and `digest-required-in`). Pure: a violation is `PolicyRefused`
(exit 4) naming the rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from updater.bump.model import BumpPlan
from updater.errors import PolicyRefused
from updater.policy import Policy, Violation, check_image, check_jump, policy_from_mapping
from updater.refs import ImageRef


@dataclass(frozen=True)
class Governance:
    policy: Policy
    environment: str | None  # the target's environment (None: no target)
    source: str  # where the policy came from, for messages (`.updater.yml`)
    labels: tuple[str, ...] = ()  # what the PR will carry (major-needs)
    reviewers: tuple[str, ...] = ()

    def violations(self, plan: BumpPlan, requested: Sequence[str], *, on_pr: bool) -> list[Violation]:
        found: list[Violation] = []
        for text in requested:
            found += check_image(text, self.policy, namespace=self.environment,
                                 where=f"--image {text}" + (f" (environment {self.environment})"
                                                            if self.environment else ""))
        for change in plan.changes:
            old, new = ImageRef.try_parse(change.old), ImageRef.try_parse(change.new)
            found += check_jump(old.tag if old else None, new.tag if new else None, self.policy,
                                labels=self.labels, reviewers=self.reviewers, on_pr=on_pr,
                                where=f"{change.path}:{change.line}", image=change.image)
        return found

    def check(self, plan: BumpPlan, requested: Sequence[str], *, on_pr: bool) -> None:
        """Refuse (exit 4, nothing written or pushed) when any rule is broken."""
        found = self.violations(plan, requested, on_pr=on_pr)
        if found:
            more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
            raise PolicyRefused(f"{self.source} policy refuses the bump: {found[0]}{more}; nothing was changed")


def merged_policy(layers: Sequence[Mapping[str, Any] | None]) -> dict[str, Any] | None:
    """`policy:` mappings merged key by key, lowest first (top level < defaults < app < environment)."""
    merged: dict[str, Any] = {}
    present = False
    for layer in layers:
        if isinstance(layer, Mapping):
            present = True
            merged.update(layer)
    return merged if present else None


def governance_for(data: Mapping[str, Any], *, app: str, environment: str, source: str,
                   labels: tuple[str, ...], reviewers: tuple[str, ...]) -> Governance | None:
    """The target's governance from a config's data, or None when the config has no `policy:`."""
    app_data = data.get("apps", {}).get(app, {})
    env_data = app_data.get("environments", {}).get(environment, {}) or {}
    merged = merged_policy([data.get("policy"), (data.get("defaults") or {}).get("policy"),
                            app_data.get("policy"), env_data.get("policy")])
    if merged is None:
        return None
    policy = policy_from_mapping(merged, source=f"{source} (target {app}/{environment})")
    return Governance(policy, environment, source, labels, reviewers)
