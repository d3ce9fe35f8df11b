"""One watch pass's registry half: for each watched target, ask the registry and apply the policy.

Every target is decided before anything is bumped, so a registry that is down (or refuses us)
fails the run before a single branch is pushed: no partial change. The result is data
(`Decision`s) that the command turns into bumps, the dry-run report and the JSON output.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from updater.errors import BadInput
from updater.registry.client import RegistryClient
from updater.registry.names import Repository, repository_for
from updater.registry.policy import FollowPolicy, RegexPolicy, SemverPolicy, newest_regex, newest_semver, regex_candidates
from updater.registry.spec import WatchSpec

log = logging.getLogger("updater.registry")

# sort=created reads a manifest and a config per candidate: beyond this, the pattern is too loose
MAX_CREATED_CANDIDATES = 50


@dataclass(frozen=True)
class Decision:
    target: str
    image: str
    policy: str  # described, for reports
    tags_seen: int  # tags listed (0 when following a tag's digest)
    tag: str | None  # None: no tag is allowed by the policy
    digest: str | None = None  # follow policies pin the tag's current digest
    calls: int = 0  # registry HTTP requests this decision took

    @property
    def ref(self) -> str | None:
        if self.tag is None:
            return None
        return f"{self.image}:{self.tag}" + (f"@{self.digest}" if self.digest else "")


def decide_all(client: RegistryClient, specs: tuple[WatchSpec, ...], *,
               insecure: frozenset[str] = frozenset()) -> tuple[Decision, ...]:
    return tuple(decide(client, spec, insecure=insecure) for spec in specs)


def decide(client: RegistryClient, spec: WatchSpec, *, insecure: frozenset[str] = frozenset()) -> Decision:
    repo = repository_for(spec.image, insecure=insecure)
    before = client.http.calls
    policy = spec.policy
    digest = None
    tags: tuple[str, ...] = ()
    if isinstance(policy, FollowPolicy):
        tag: str | None = policy.tag
        digest = client.digest(repo, policy.tag)
    else:
        tags = client.tags(repo)
        if isinstance(policy, SemverPolicy):
            tag = newest_semver(tags, policy)
        else:
            tag = newest_regex(tags, policy, _created(client, repo, spec, tags, policy))
    decision = Decision(spec.target, spec.image, policy.describe(), len(tags), tag, digest, client.http.calls - before)
    if decision.tag is None:
        log.warning("warning: %s: none of the %d tags of %s is allowed by %s; nothing to do",
                    spec.target, len(tags), spec.image, decision.policy)
    else:
        log.info("%s: %s -> %s (%d tags, %d registry calls)", spec.target, decision.policy, decision.ref,
                 len(tags), decision.calls)
    return decision


def _created(client: RegistryClient, repo: Repository, spec: WatchSpec, tags: tuple[str, ...],
             policy: RegexPolicy) -> dict[str, datetime | None] | None:
    if policy.sort != "created":
        return None
    candidates = regex_candidates(tags, policy)
    if len(candidates) > MAX_CREATED_CANDIDATES:
        raise BadInput(f"{spec.target}: watch.policy.regex {policy.pattern.pattern!r} matches {len(candidates)} tags; "
                       f"sort: created reads each one's config, so narrow it to at most {MAX_CREATED_CANDIDATES}")
    return {tag: client.created(repo, tag) for tag in candidates}
