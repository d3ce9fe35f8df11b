"""Pull-request mode, the forge side of publishing: open or refresh the PR for the pushed head,
labels / reviewers / assignees, the superseded comment, auto-merge, and the body's convergence
when another run pushed after us; closing a PR whose content is already on the base. Also the
clone's `Checkout` (which ref its work tree holds), shared with `updater.landing.pr_flow`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from updater.errors import BadInput, RemoteError
from updater.forges.base import AlreadyExists, AutoMergeUnavailable, HeadMoved, Provider, PullRequest
from updater.git.workspace import Workspace
from updater.landing import pr_body
from updater.landing.result import LandingResult, Outcome

if TYPE_CHECKING:
    from updater.landing.pr_flow import PrOptions

log = logging.getLogger("updater.landing")

_CONVERGE_ROUNDS = 5  # body re-renders after a concurrent push; each round needs a newer push to lose
_HEAD_LAG_WAIT = 30.0  # GitHub shows a PR's new head seconds after the push: wait at most this long


class Checkout:
    """The clone's work tree and the ref it holds untouched: a fetched tip is reused instead of
    fetched again (right after the clone, or between read-only checks). `at` alone moves it."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._clean: str | None = ws.branch  # the ref the work tree holds, untouched; None: unknown/edited
        self._sha = ws.head()

    def at(self, ref: str, *, edit: bool = False, reuse: bool = True) -> str:
        """The work tree reset to the tip of `ref`; `edit`: the caller is about to change files."""
        sha = self._sha if reuse and self._clean == ref else self.ws.refresh(ref)
        self._clean, self._sha = (ref if reuse and not edit else None), sha
        return sha

    def message_of(self, branch: str) -> str:
        """The head commit message of `branch`, fetched now (it may have moved since)."""
        self.at(branch, reuse=False)
        return self.ws.message()


@dataclass(frozen=True)
class Publication:
    """A pushed (or unchanged) head to publish as the PR."""

    branch: str
    base: str
    pr: PullRequest | None  # the open PR, if any
    result: LandingResult  # the attempt's result so far ("unchanged", the plan, its warnings)
    superseded: tuple[tuple[str, str], ...]  # (old, new) bumps a newer request replaced
    title: str
    body: str
    commit_sha: str | None
    pushed: bool  # the branch was (re)written by this attempt
    auto_merge: str | None  # the merge method to enable, if any


@dataclass(frozen=True)
class Ensured:
    pr: PullRequest
    created: bool  # opened now
    rewritten: bool  # title or body written now


class Publisher:
    def __init__(self, provider: Provider, options: PrOptions, checkout: Checkout) -> None:
        self.provider, self.options, self.checkout = provider, options, checkout

    def publish(self, pub: Publication) -> LandingResult:
        """Open or refresh the PR for the pushed head, then labels, comment, auto-merge."""
        ensured = self._ensure_pr(pub)
        pr, created = ensured.pr, ensured.created
        warnings = list(pub.result.warnings) + self._decorate(pr, created=created)
        if pub.superseded and not created:
            self.provider.comment(pr, "Superseded by a newer bump: " + "; ".join(
                f"`{old}` → `{new}`" for old, new in pub.superseded) + ". The branch was regenerated.")
        merged = False
        # Asked now, or before for this PR (a regenerated head), or the forge has it off although our
        # marker asks for it (GitLab refused it before the MR had a pipeline): enable it (again).
        if pub.auto_merge and (created or pub.pushed or pr.auto_merge is False):
            refused = self._auto_merge(replace(pr, head_sha=pub.commit_sha), pub.auto_merge)
            warnings += refused
            # Nothing to wait for (no required checks): the forge merged it now, and CI should say so.
            merged = not refused and self.provider.find_open(head=pub.branch) is None
        if ensured.rewritten and not merged:
            pr = self._converge(pub.branch, pr, pub.commit_sha)
        outcome: Outcome = "merged" if merged else (
            "created" if created else ("updated" if pub.pushed or ensured.rewritten else "unchanged"))
        log.info("%s pull request #%d: %s (branch %s at %s)", outcome, pr.number, pr.url, pub.branch,
                 (pub.commit_sha or "")[:12])
        return replace(pub.result, outcome=outcome, commit_sha=pub.commit_sha, pr_number=pr.number, pr_url=pr.url,
                       warnings=tuple(warnings))

    def nothing_left(self, base: str, pr: PullRequest | None, base_sha: str, result: LandingResult) -> LandingResult:
        if pr is None or self.options.dry_run:
            log.info("nothing to propose: %s already has every requested reference", base)
            return result
        self.provider.close(pr, comment=f"Everything this pull request proposed is already on `{base}` "
                                        f"({base_sha[:12]}); closing it.")
        log.info("closed pull request #%d: its content is already on %s", pr.number, base)
        return replace(result, outcome="closed")

    def _ensure_pr(self, pub: Publication) -> Ensured:
        pr = pub.pr
        if pr is None:
            try:
                return Ensured(self.provider.create(head=pub.branch, base=pub.base, title=pub.title, body=pub.body,
                                                    draft=self.options.draft), created=True, rewritten=True)
            except AlreadyExists:  # another run opened it between our look-up and now
                pr = self.provider.find_open(head=pub.branch)
                if pr is None:
                    raise RemoteError(f"the forge says a pull request from {pub.branch} exists, "
                                      "but none is open") from None
        if pr.title.removeprefix("Draft: ") == pub.title and _same_text(pr.body, pub.body):
            return Ensured(pr, created=False, rewritten=False)
        return Ensured(self.provider.update(pr, title=pub.title, body=pub.body), created=False, rewritten=True)

    def _decorate(self, pr: PullRequest, *, created: bool) -> list[str]:
        """Labels, reviewers, assignees as asked. A reviewer the forge refuses is a warning, not a failure."""
        o, warnings = self.options, []
        steps: list[tuple[Callable[[PullRequest, Sequence[str]], None], Sequence[str]]] = [
            (self.provider.add_labels, [label for label in o.labels if label not in pr.labels])]
        if created:
            steps += [(self.provider.request_reviewers, o.reviewers), (self.provider.add_assignees, o.assignees)]
        for step, values in steps:
            try:
                step(pr, values)
            except BadInput as err:
                log.warning("%s", err)
                warnings.append(str(err))
        return warnings

    def _auto_merge(self, pr: PullRequest, method: str) -> list[str]:
        deadline, wait = time.monotonic() + _HEAD_LAG_WAIT, 0.25
        while True:
            try:
                self.provider.enable_auto_merge(pr, method=method)  # type: ignore[arg-type]  # from our marker
                return []
            except AutoMergeUnavailable as err:
                log.error("%s", err)
                return [str(err)]
            except HeadMoved as err:
                if self.checkout.ws.ls_remote(f"refs/heads/{pr.head}") != pr.head_sha:
                    return []  # a newer run pushed meanwhile; it enables auto-merge on its head itself
                if time.monotonic() + wait > deadline:
                    message = (f"{err}: the pull request still showed an older head {_HEAD_LAG_WAIT:g} s after the "
                               "push; auto-merge is not on; the next updater run for this target enables it")
                    log.error("%s", message)
                    return [message]
                log.info("the forge does not show %s as the head of #%d yet: asking again in %.1fs",
                         (pr.head_sha or "")[:12], pr.number, wait)
                time.sleep(wait)
                wait = min(wait * 1.5, 3.0)

    def _converge(self, branch: str, pr: PullRequest, written: str | None) -> PullRequest:
        """Another run may have pushed after us and written its body before ours: re-render the body
        from whatever the branch holds until the head we rendered is still the head afterwards."""
        ws = self.checkout.ws
        for _ in range(_CONVERGE_ROUNDS):
            tip = ws.ls_remote(f"refs/heads/{branch}")
            if tip is None or tip == written:
                return pr
            message = self.checkout.message_of(branch)
            written = ws.head()
            state = pr_body.parse_marker(message)
            if state is None:
                return pr
            body = pr_body.body(replace(state, head=written), pr_body.table_from_message(message), template=self.options.body)
            pr = self.provider.update(pr, title=message.splitlines()[0], body=body)
        return pr


def _same_text(a: str, b: str) -> bool:
    return a.replace("\r\n", "\n").strip() == b.replace("\r\n", "\n").strip()
