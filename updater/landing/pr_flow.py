"""Land one proposal as a pull request: regenerate its branch from the base, push with a lease,
then open or refresh the PR. Shared by `updater bump --mode pr` and `updater rebase`.

One attempt reads everything afresh (the branch head and its state marker, the base tip, the open
PR), folds the requested bumps into what the PR already proposes, re-applies *all* of them on the
current base from scratch (never a textual rebase, so never a conflict), and replaces the branch
with `--force-with-lease` against the head it read. A lost race (`PushRejected`) or a transient git
failure retries the whole attempt under the `retry_transient` policy. The forge is only told after
the push: the branch commit carries the state, so a run that dies between push and PR is repaired
by the next one, and the PR body is always re-rendered from the branch's head commit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from updater.bump.model import BumpPlan, Change
from updater.errors import BadInput, PolicyRefused, RemoteError
from updater.forges.base import AlreadyExists, AutoMergeUnavailable, MergeMethod, Provider, PullRequest
from updater.git.identity import BOT, Identity
from updater.git.workspace import Workspace
from updater.landing import pr_body
from updater.landing.pr_body import ProposalState, ProposedBump
from updater.landing.result import LandingResult, Outcome
from updater.landing.retry import RetryPolicy, call_with_retries, retry_transient
from updater.refs import ImageRef

log = logging.getLogger("updater.landing")

_CONVERGE_ROUNDS = 5  # body re-renders after a concurrent push; each round needs a newer push to lose


@dataclass(frozen=True)
class PrOptions:
    title: str | None = None  # --title template (default: "Bump api 1.4.2")
    body: str | None = None  # --body template, put above the table
    labels: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    draft: bool = False
    auto_merge: bool = False
    merge_method: MergeMethod = "squash"
    allow_downgrade: bool = False
    allow_missing: bool = False
    validate: bool = True
    dry_run: bool = False
    author: Identity = BOT
    committer: Identity = BOT
    retry: RetryPolicy = RetryPolicy()


@dataclass(frozen=True)
class Proposal:
    branch: str  # the PR's head branch
    base: str  # the branch it targets
    target: str  # what the PR is for (names the branch, shown in the body)
    requested: tuple[ProposedBump, ...] = ()  # empty: only refresh (updater rebase)


class PrLander:
    """Lands proposals in one clone (`ws`) against one forge project (`provider`)."""

    def __init__(self, ws: Workspace, provider: Provider, options: PrOptions) -> None:
        self.ws, self.provider, self.options = ws, provider, options
        # (base, sha) whose fetched tip the work tree holds untouched: reused instead of fetched again
        self._clean_at: tuple[str, str] | None = (ws.branch, ws.head())

    def land(self, proposal: Proposal, *, known: PullRequest | None = None) -> LandingResult:
        def attempt(number: int) -> LandingResult:
            return replace(self._attempt(proposal, known if number == 1 else None, number), attempts=number)

        return call_with_retries(attempt, retry_transient(self.options.retry), what=f"update {proposal.branch}")

    # -- one attempt ---------------------------------------------------------------------------
    def _attempt(self, p: Proposal, known: PullRequest | None, number: int) -> LandingResult:
        o = self.options
        pr, head_sha, branch_state, previous = self._read(p, known)
        base_sha = self._base_tip(p.base)
        merged = pr_body.merge_bumps(previous.bumps if previous else (), p.requested, allow_downgrade=o.allow_downgrade)
        if p.requested and len(merged.refused) == len(p.requested):
            newer = ", ".join(old for old, _ in merged.refused)
            if number == 1:
                raise PolicyRefused(f"a newer version is already proposed in {pr.url if pr else p.branch}: {newer} "
                                    "(use --allow-downgrade to replace it)")
            # A newer bump won the race while this run retried: as in push mode, not a failure.
            return LandingResult("unchanged", BumpPlan(), p.branch, p.base, head_sha, pr_number=pr.number if pr else None,
                                 pr_url=pr.url if pr else None,
                                 warnings=(f"superseded: {newer} was proposed while this run retried",))
        plan, kept = self._regenerate(merged.bumps, requested={b.ref for b in p.requested})
        sticky = o.merge_method if o.auto_merge else (previous.auto_merge if previous else None)
        state = ProposalState(p.target, p.base, kept, base_sha=base_sha, auto_merge=sticky)
        result = LandingResult("unchanged", plan, p.branch, p.base, head_sha, pr_number=pr.number if pr else None,
                               pr_url=pr.url if pr else None, warnings=plan.warnings)
        if not plan.changes:
            return self._nothing_left(p, pr, base_sha, result)
        title = pr_body.title(state, o.title)
        pushed = not (head_sha and branch_state == state)
        if o.dry_run:
            return replace(result, outcome="updated" if pr else "created") if pushed else result
        commit_sha = self._push(p, state, plan.changes, title, head_sha) if pushed else head_sha
        body = pr_body.body(replace(state, head=commit_sha), pr_body.changes_table(plan.changes), template=o.body)
        return self._publish(p, pr, result, merged.superseded, title=title, body=body, commit_sha=commit_sha,
                             pushed=pushed, auto_merge=state.auto_merge)

    def _read(self, p: Proposal, known: PullRequest | None) -> tuple[PullRequest | None, str | None,
                                                                     ProposalState | None, ProposalState | None]:
        """(open PR, branch head, state of the head commit, what the PR proposes so far)."""
        pr = known or self.provider.find_open(head=p.branch)
        body_state = pr_body.parse_marker(pr.body) if pr else None
        head_sha = self.ws.ls_remote(f"refs/heads/{p.branch}")
        if head_sha and body_state and body_state.head == head_sha:
            branch_state = replace(body_state, head=None)  # the body describes the head: no fetch needed
        else:
            branch_state = pr_body.parse_marker(self._message_of(p.branch)) if head_sha else None
        previous = branch_state or body_state
        if head_sha and previous is None:
            raise PolicyRefused(f"branch {p.branch} exists but was not made by updater (no state marker); "
                                "delete it or choose another --pr-branch")
        return pr, head_sha, branch_state, previous

    def _publish(self, p: Proposal, pr: PullRequest | None, result: LandingResult,
                 superseded: Sequence[tuple[str, str]], *, title: str, body: str, commit_sha: str | None,
                 pushed: bool, auto_merge: str | None) -> LandingResult:
        """Open or refresh the PR for the pushed head, then labels, comment, auto-merge."""
        pr, created, rewritten = self._ensure_pr(p, pr, title, body)
        warnings = list(result.warnings) + self._decorate(pr, created=created)
        if superseded and not created:
            self.provider.comment(pr, "Superseded by a newer bump: " + "; ".join(
                f"`{old}` → `{new}`" for old, new in superseded) + ". The branch was regenerated.")
        merged = False
        if auto_merge and (created or pushed):  # asked now, or before for this PR (a regenerated head)
            refused = self._auto_merge(replace(pr, head_sha=commit_sha), auto_merge)
            warnings += refused
            # Nothing to wait for (no required checks): the forge merged it now, and CI should say so.
            merged = not refused and self.provider.find_open(head=p.branch) is None
        if rewritten and not merged:
            pr = self._converge(p, pr, commit_sha)
        outcome: Outcome = "merged" if merged else (
            "created" if created else ("updated" if pushed or rewritten else "unchanged"))
        log.info("%s pull request #%d: %s (branch %s at %s)", outcome, pr.number, pr.url, p.branch,
                 (commit_sha or "")[:12])
        return replace(result, outcome=outcome, commit_sha=commit_sha, pr_number=pr.number, pr_url=pr.url,
                       warnings=tuple(warnings))

    def on_base(self, state: ProposalState, base: str) -> bool:
        """True when the tip of `base` already has (or has overtaken) every bump `state` carries."""
        from updater.bump.engine import plan_bump

        self._base_tip(base)
        for bump in state.bumps:
            try:
                plan = plan_bump(self.ws.root, [ImageRef.parse(bump.ref)], paths=bump.paths, allow_missing=True)
            except PolicyRefused:
                continue  # the base has a newer version: this bump is obsolete
            if plan.changes:
                return False
        return True

    def base_tip(self, base: str) -> str:
        return self._base_tip(base)

    def _message_of(self, branch: str) -> str:
        self._clean_at = None  # the work tree leaves the base
        self.ws.refresh(branch)
        return self.ws.message()

    def _base_tip(self, base: str) -> str:
        """The clone reset to the tip of `base`. When the work tree already holds that tip untouched
        (right after the clone, or between read-only checks) it is reused instead of fetched again."""
        if self._clean_at and self._clean_at[0] == base:
            return self._clean_at[1]
        sha = self.ws.refresh(base)
        self._clean_at = (base, sha)
        return sha

    def _regenerate(self, bumps: Sequence[ProposedBump], *, requested: set[str]) -> tuple[BumpPlan, tuple[ProposedBump, ...]]:
        """Apply every bump, in order, to the fresh base in the clone. Old bumps the base has
        overtaken (a newer version landed there) are dropped; new ones follow the usual rules."""
        from updater.bump.engine import apply_plan, plan_bump
        from updater.bump.validate import validate_plan

        o, root = self.options, self.ws.root
        self._clean_at = None  # files are about to change
        changes: list[Change] = []
        current: list[Change] = []
        warnings: list[str] = []
        old_contents: dict[str, bytes] = {}
        kept = []
        for bump in bumps:
            is_new = bump.ref in requested
            try:
                plan = plan_bump(root, [ImageRef.parse(bump.ref)], paths=bump.paths,
                                 allow_downgrade=is_new and o.allow_downgrade,
                                 allow_missing=(not is_new) or o.allow_missing)
            except PolicyRefused as err:
                if is_new:
                    raise
                warnings.append(f"{bump.ref} dropped from the pull request: {err}")
                continue
            current.extend(plan.current)
            warnings.extend(plan.warnings)
            if not plan.changes:
                continue  # already on the base: nothing left to propose for it
            if o.validate:
                validate_plan(root, plan)
            apply_plan(root, plan)
            kept.append(bump)
            changes.extend(plan.changes)
            for path, data in plan.old_contents.items():
                old_contents.setdefault(path, data)
        new_contents = {path: (root / path).read_bytes() for path in old_contents}
        plan = BumpPlan(tuple(changes), new_contents, old_contents, tuple(current), tuple(dict.fromkeys(warnings)))
        return plan, tuple(kept)

    def _push(self, p: Proposal, state: ProposalState, changes: Sequence[Change], title: str,
              head_sha: str | None) -> str:
        o = self.options
        message = pr_body.commit_message(state, changes, title_text=title)
        files = sorted({c.path for c in changes})
        sha = self.ws.commit(message, files=files, author=o.author, committer=o.committer)
        self.ws.push(branch=p.branch, expected=head_sha or "")  # PushRejected: another run got there first
        log.info("pushed %s (%s) onto %s (%s)", p.branch, sha[:12], p.base, (state.base_sha or "")[:12])
        return sha

    def _ensure_pr(self, p: Proposal, pr: PullRequest | None, title: str, body: str) -> tuple[PullRequest, bool, bool]:
        """(the PR, created now?, title/body written?)"""
        if pr is None:
            try:
                return self.provider.create(head=p.branch, base=p.base, title=title, body=body,
                                            draft=self.options.draft), True, True
            except AlreadyExists:  # another run opened it between our look-up and now
                pr = self.provider.find_open(head=p.branch)
                if pr is None:
                    raise RemoteError(f"the forge says a pull request from {p.branch} exists, but none is open") from None
        if pr.title.removeprefix("Draft: ") == title and _same_text(pr.body, body):
            return pr, False, False
        return self.provider.update(pr, title=title, body=body), False, True

    def _decorate(self, pr: PullRequest, *, created: bool) -> list[str]:
        """Labels, reviewers, assignees as asked. A reviewer the forge refuses is a warning, not a failure."""
        o, warnings = self.options, []
        steps = [(self.provider.add_labels, [label for label in o.labels if label not in pr.labels])]
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
        try:
            self.provider.enable_auto_merge(pr, method=method)  # type: ignore[arg-type]  # from our marker
        except AutoMergeUnavailable as err:
            log.error("%s", err)
            return [str(err)]
        return []

    def _converge(self, p: Proposal, pr: PullRequest, written: str | None) -> PullRequest:
        """Another run may have pushed after us and written its body before ours: re-render the body
        from whatever the branch holds until the head we rendered is still the head afterwards."""
        for _ in range(_CONVERGE_ROUNDS):
            tip = self.ws.ls_remote(f"refs/heads/{p.branch}")
            if tip is None or tip == written:
                return pr
            message = self._message_of(p.branch)
            written = self.ws.head()
            state = pr_body.parse_marker(message)
            if state is None:
                return pr
            body = pr_body.body(replace(state, head=written), pr_body.table_from_message(message), template=self.options.body)
            pr = self.provider.update(pr, title=message.splitlines()[0], body=body)
        return pr

    def _nothing_left(self, p: Proposal, pr: PullRequest | None, base_sha: str, result: LandingResult) -> LandingResult:
        if pr is None or self.options.dry_run:
            log.info("nothing to propose: %s already has every requested reference", p.base)
            return result
        self.provider.close(pr, comment=f"Everything this pull request proposed is already on `{p.base}` "
                                        f"({base_sha[:12]}); closing it.")
        log.info("closed pull request #%d: its content is already on %s", pr.number, p.base)
        return replace(result, outcome="closed")


def _same_text(a: str, b: str) -> bool:
    return a.replace("\r\n", "\n").strip() == b.replace("\r\n", "\n").strip()
