"""The one landing skeleton shared by push mode and pull-request mode, and the rules they share.

Each attempt, under the `retry_transient` policy (a lost race or a network failure retries the
whole attempt on the new tip):

    refresh (clone, or fetch the new tip) → re-apply the plan from scratch (never a textual rebase)
    → decide: nothing to do / superseded / refused → publish (push, or push + PR) → result

The mode supplies the steps (`Mode`); the decisions are here, once:
- **superseded**: the plan is refused (`NewerInTheWay`: a newer version is already there) on an attempt after one
  that could plan. The newer version landed while this run retried: outcome "unchanged" with a
  "superseded: ..." warning, exit 0, nothing pushed. Refused on the first look, it is a plain
  downgrade request: `PolicyRefused` (exit 4).
- **author**: the flag / GIT_AUTHOR_* environment, else user.name / user.email as the clone's git
  config has them, else the bot; the committer defaults to the author.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Generic, Protocol, TypeVar

from updater.bump.model import BumpPlan
from updater.errors import PolicyRefused
from updater.git.identity import BOT, Identity
from updater.git.workspace import Workspace
from updater.landing.result import LandingResult
from updater.retry import RetrySettings, call_with_retries, retry_transient

SUPERSEDED = "superseded"  # the start of the warning when a newer bump won the race


class NewerInTheWay(PolicyRefused):
    """The plan is refused because a newer version is already there (on the branch, or in the PR):
    the one refusal that becomes "superseded" on a retry. Exit 4 when it is the first look."""

    def __init__(self, message: str, *, newer: str = "") -> None:
        super().__init__(message)
        self.newer = newer  # the newer reference(s), for the superseded warning


D = TypeVar("D")


@dataclass(frozen=True)
class Replanned(Generic[D]):
    """The plan re-applied on the fresh tip, and what the mode needs to publish it."""

    plan: BumpPlan
    detail: D  # the mode's own data for `publish` (PR mode: the proposal's new state)


class Mode(Protocol[D]):
    """The mode-specific steps of one attempt."""

    def refresh(self, number: int) -> LandingResult | None:
        """Clone (first attempt) or fetch the tip; a result when the attempt is already decided."""

    def replan(self, number: int) -> Replanned[D]:
        """Re-apply the plan on the fresh tip; `NewerInTheWay` when a newer version is there."""

    def superseded(self, refusal: NewerInTheWay) -> LandingResult:
        """The result when a newer bump won the race (see the module docstring)."""

    def nothing_to_do(self, work: Replanned[D]) -> LandingResult: ...

    def preview(self, work: Replanned[D]) -> LandingResult:
        """--dry-run: what publishing would do; writes nothing remote."""

    def publish(self, work: Replanned[D]) -> LandingResult: ...


def land(mode: Mode[D], *, retry: RetrySettings, dry_run: bool, what: str) -> LandingResult:
    """Run the skeleton's attempts until one decides, and return its result."""
    planned = False  # an earlier attempt of this run got past planning

    def attempt(number: int) -> LandingResult:
        nonlocal planned
        decided = mode.refresh(number)
        if decided is not None:
            return replace(decided, attempts=number)
        try:
            work = mode.replan(number)
        except NewerInTheWay as refusal:
            if not planned:  # the newer version was there when this run first looked
                raise
            return replace(mode.superseded(refusal), attempts=number, superseded=True)
        planned = True
        if not work.plan.changes:
            result = mode.nothing_to_do(work)
        elif dry_run:
            result = mode.preview(work)
        else:
            result = mode.publish(work)
        return replace(result, attempts=number)

    return call_with_retries(attempt, retry_transient(retry), what=what)


def superseded_warning(detail: str) -> str:
    return f"{SUPERSEDED}: {detail}"


def author_for(workspace: Workspace, chosen: Identity | None) -> Identity:
    """The run's author: `chosen` (flag or GIT_AUTHOR_*), else the clone's git config, else the bot."""
    if chosen is not None:
        return chosen
    name, email = workspace.config("user.name"), workspace.config("user.email")
    return Identity(name, email) if name and email else BOT
