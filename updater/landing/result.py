"""What a landing run produced: the contract between the landing modes and every output
(`--json`, GitHub Actions outputs and step summary, GitLab dotenv report, the demo's story)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from updater.bump.model import BumpPlan

Outcome = Literal[
    "pushed",  # push mode: a commit landed on the branch
    "created",  # pr mode: a new pull/merge request was opened
    "updated",  # pr mode: an existing updater PR was regenerated / retitled
    "unchanged",  # nothing to do: the branch (or the open PR) already has the bump
    "closed",  # pr mode: the PR's content is already on the base; it was closed
    "merged",  # pr mode: opened or updated, then merged during this run (auto-merge with nothing to wait for)
]


@dataclass(frozen=True)
class LandingResult:
    outcome: Outcome
    plan: BumpPlan
    branch: str  # the branch pushed to (push mode) or the PR's head branch (pr mode)
    base: str  # the target branch
    commit_sha: str | None = None  # the commit that carries the bump, if any
    attempts: int = 1  # push attempts it took (races and transient failures)
    pr_number: int | None = None
    pr_url: str | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def changed(self) -> bool:
        return self.outcome in ("pushed", "created", "updated", "merged")

    @property
    def changed_files(self) -> tuple[str, ...]:
        return self.plan.files
