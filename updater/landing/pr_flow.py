"""Land one proposal as a pull request: pull-request mode's steps in the landing skeleton
(`updater.landing.skeleton.land`). Shared by `updater bump --mode pr` and `updater rebase`.

- refresh: read everything afresh — the open PR, the branch head and its state marker, the base tip;
- re-apply: fold the requested bumps into what the PR already proposes and re-apply *all* of them
  on the current base from scratch (never a textual rebase, so never a conflict);
- decide: nothing left (the base has it all: close the PR), or a newer version already proposed
  (the skeleton's refused / superseded rule);
- publish: replace the branch with `--force-with-lease` against the head it read (a lost race,
  `PushRejected`, retries the attempt; `--commit-via api`: GitHub makes the commit and the branch
  moves by compare-and-swap, see `updater.landing.api_commit`), then tell the forge
  (`updater.landing.pr_publish`). The
  branch commit carries the state, so a run that dies between push and PR is repaired by the next.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from updater.bump.engine import apply_plan, plan_bump
from updater.bump.governance import Governance
from updater.bump.model import BumpPlan
from updater.bump.validate import validate_plan
from updater.errors import PolicyRefused
from updater.forges.base import MergeMethod, Provider, PullRequest
from updater.git.identity import Identity
from updater.git.workspace import Workspace
from updater.landing import api_commit, pr_body
from updater.landing.pr_body import ProposalState, ProposedBump
from updater.landing.pr_publish import Checkout, Publication, Publisher
from updater.landing.result import LandingResult
from updater.landing.skeleton import NewerInTheWay, Replanned, author_for, land, superseded_warning
from updater.refs import ImageRef
from updater.retry import RetrySettings

log = logging.getLogger("updater.landing")


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
    kube_version: str | None = None  # the Kubernetes schemas validation checks objects against (None: none)
    dry_run: bool = False
    author: Identity | None = None  # None: the clone's git config, then the bot (skeleton.author_for)
    committer: Identity | None = None  # None: the author
    retry: RetrySettings = RetrySettings()
    governance: Governance | None = None  # the repository's policy, checked on each new bump before a push
    commit_via: str = "git"  # api: GitHub makes the branch commit (`updater.landing.api_commit`)


@dataclass(frozen=True)
class Proposal:
    branch: str  # the PR's head branch
    base: str  # the branch it targets
    target: str  # what the PR is for (names the branch, shown in the body)
    requested: tuple[ProposedBump, ...] = ()  # empty: only refresh (updater rebase)


@dataclass(frozen=True)
class Current:
    """What the forge and the branch hold when an attempt starts."""

    pr: PullRequest | None  # the open PR, if any
    head_sha: str | None  # the branch head, if the branch exists
    branch_state: ProposalState | None  # the state marker of the head commit
    previous: ProposalState | None  # what the PR proposes so far (head commit, else PR body)
    base_sha: str


@dataclass(frozen=True)
class NewState:
    """What an attempt proposes: the state to write, and the old bumps newer ones replaced."""

    state: ProposalState
    superseded: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Regenerated:
    plan: BumpPlan  # every kept bump, applied in order on the base
    kept: tuple[ProposedBump, ...]  # the bumps the PR still proposes


class PrLander:
    """Lands proposals in one clone (`ws`) against one forge project (`provider`)."""

    def __init__(self, ws: Workspace, provider: Provider, options: PrOptions) -> None:
        self.ws, self.provider, self.options = ws, provider, options
        self.checkout = Checkout(ws)
        self.publisher = Publisher(provider, options, self.checkout)
        self.author = author_for(ws, options.author)  # once per clone, the same rule as push mode
        # --commit-via api: GitHub commits through the provider's own client (and its App auth, if any)
        self.commits = api_commit.commits_of(provider) if options.commit_via == api_commit.API else None

    def land(self, proposal: Proposal, *, known: PullRequest | None = None) -> LandingResult:
        return land(_ProposalMode(self, proposal, known), retry=self.options.retry, dry_run=self.options.dry_run,
                    what=f"update {proposal.branch}")

    def on_base(self, state: ProposalState, base: str) -> bool:
        """True when the tip of `base` already has (or has overtaken) every bump `state` carries."""
        self.checkout.at(base)
        for bump in state.bumps:
            try:
                plan = plan_bump(self.ws.root, [ImageRef.parse(bump.ref)], paths=bump.paths, allow_missing=True)
            except PolicyRefused:
                continue  # the base has a newer version: this bump is obsolete
            if plan.changes:
                return False
        return True

    def base_tip(self, base: str) -> str:
        return self.checkout.at(base)

    def read(self, p: Proposal, known: PullRequest | None, *, trust_api: bool = False) -> Current:
        """`trust_api` (a first attempt that will push): take the branch head from the forge's PR
        (no PR: no branch) instead of a `git ls-remote` round trip. The push's lease still checks
        it against the remote: if the guess was wrong (a leftover branch, a lagging API), the push
        is rejected and the next attempt reads the branch with `ls-remote`."""
        pr = known or self.provider.find_open(head=p.branch)
        body_state = pr_body.parse_marker(pr.body) if pr else None
        if trust_api and (pr is None or pr.head_sha):
            head_sha = pr.head_sha if pr else None
        else:
            head_sha = self.ws.ls_remote(f"refs/heads/{p.branch}")
        branch_state: ProposalState | None
        if head_sha and body_state and body_state.head == head_sha:
            branch_state = replace(body_state, head=None)  # the body describes the head: no fetch needed
        else:
            branch_state = pr_body.parse_marker(self.checkout.message_of(p.branch)) if head_sha else None
        previous = branch_state or body_state
        if head_sha and previous is None:
            raise PolicyRefused(f"branch {p.branch} exists but was not made by updater (no state marker); "
                                "delete it or choose another --pr-branch")
        return Current(pr, head_sha, branch_state, previous, base_sha=self.checkout.at(p.base))

    def regenerate(self, bumps: Sequence[ProposedBump], *, requested: set[str]) -> Regenerated:
        """Apply every bump, in order, to the fresh base in the clone. Old bumps the base has
        overtaken (a newer version landed there) are dropped; new ones follow the usual rules."""
        o, root = self.options, self.ws.root
        plans: list[BumpPlan] = []
        kept: list[ProposedBump] = []
        for bump in bumps:
            is_new = bump.ref in requested
            try:
                plan = plan_bump(root, [ImageRef.parse(bump.ref)], paths=bump.paths,
                                 allow_downgrade=is_new and o.allow_downgrade,
                                 allow_missing=(not is_new) or o.allow_missing)
            except PolicyRefused as err:
                if is_new:
                    raise
                plans.append(BumpPlan(warnings=(f"{bump.ref} dropped from the pull request: {err}",)))
                continue
            if is_new and o.governance is not None:
                o.governance.check(plan, [bump.ref], on_pr=True)
            plans.append(plan)
            if not plan.changes:
                continue  # already on the base: nothing left to propose for it
            if o.validate:
                validate_plan(root, plan, kube_version=o.kube_version)
            apply_plan(root, plan)
            kept.append(bump)
        return Regenerated(BumpPlan.combine(plans), tuple(kept))


class _ProposalMode:
    """One proposal's steps in the landing skeleton."""

    def __init__(self, lander: PrLander, proposal: Proposal, known: PullRequest | None) -> None:
        self.lander, self.p, self.known = lander, proposal, known
        self.current = Current(None, None, None, None, "")

    def refresh(self, number: int) -> LandingResult | None:
        first = number == 1
        self.current = self.lander.read(self.p, self.known if first else None,
                                        trust_api=first and not self.lander.options.dry_run)
        return None

    def replan(self, number: int) -> Replanned[NewState]:
        p, cur, o = self.p, self.current, self.lander.options
        merged = pr_body.merge_bumps(cur.previous.bumps if cur.previous else (), p.requested,
                                     allow_downgrade=o.allow_downgrade)
        if p.requested and len(merged.refused) == len(p.requested):
            newer = ", ".join(old for old, _ in merged.refused)
            raise NewerInTheWay(f"a newer version is already proposed in {cur.pr.url if cur.pr else p.branch}: "
                                f"{newer} (use --allow-downgrade to replace it)", newer=newer)
        self.lander.checkout.at(p.base, edit=True)  # files are about to change
        regenerated = self.lander.regenerate(merged.bumps, requested={b.ref for b in p.requested})
        sticky = o.merge_method if o.auto_merge else (cur.previous.auto_merge if cur.previous else None)
        state = ProposalState(p.target, p.base, regenerated.kept, base_sha=cur.base_sha, auto_merge=sticky)
        return Replanned(regenerated.plan, NewState(state, tuple(merged.superseded)))

    def superseded(self, refusal: NewerInTheWay) -> LandingResult:
        # A newer bump won the race while this run retried: as in push mode, not a failure.
        warning = superseded_warning(f"{refusal.newer} was proposed while this run retried")
        return replace(self._result(BumpPlan()), warnings=(warning,))

    def nothing_to_do(self, work: Replanned[NewState]) -> LandingResult:
        return self.lander.publisher.nothing_left(self.p.base, self.current.pr, self.current.base_sha,
                                                  self._result(work.plan))

    def preview(self, work: Replanned[NewState]) -> LandingResult:
        result = self._result(work.plan)
        if not self._needs_push(work.detail.state):
            return result
        return replace(result, outcome="updated" if self.current.pr else "created")

    def publish(self, work: Replanned[NewState]) -> LandingResult:
        p, cur, state = self.p, self.current, work.detail.state
        title = pr_body.title(state, self.lander.options.title)
        pushed = self._needs_push(state)
        commit_sha = self._push(state, work.plan, title) if pushed else cur.head_sha
        body = pr_body.body(replace(state, head=commit_sha), pr_body.changes_table(work.plan.changes),
                            template=self.lander.options.body)
        return self.lander.publisher.publish(Publication(
            branch=p.branch, base=p.base, pr=cur.pr, result=self._result(work.plan),
            superseded=work.detail.superseded, title=title, body=body, commit_sha=commit_sha, pushed=pushed,
            auto_merge=state.auto_merge))

    def _needs_push(self, state: ProposalState) -> bool:
        return not (self.current.head_sha and self.current.branch_state == state)

    def _push(self, state: ProposalState, plan: BumpPlan, title: str) -> str:
        lander, p = self.lander, self.p
        message = pr_body.commit_message(state, plan.changes, title_text=title)
        if lander.commits is not None:  # PushRejected when another run moved the branch first, as below
            return api_commit.replace_branch(lander.commits, branch=p.branch, base_sha=self.current.base_sha,
                                             expected=self.current.head_sha, message=message, plan=plan)
        author = lander.author
        sha = lander.ws.commit(message, files=list(plan.files), author=author,
                               committer=lander.options.committer or author)
        # PushRejected when another run got there first: the skeleton retries the whole attempt
        lander.ws.push(branch=p.branch, expected=self.current.head_sha or "")
        log.info("pushed %s (%s) onto %s (%s)", p.branch, sha[:12], p.base, (state.base_sha or "")[:12])
        return sha

    def _result(self, plan: BumpPlan) -> LandingResult:
        pr = self.current.pr
        return LandingResult("unchanged", plan, self.p.branch, self.p.base, self.current.head_sha,
                             pr_number=pr.number if pr else None, pr_url=pr.url if pr else None,
                             warnings=plan.warnings)
