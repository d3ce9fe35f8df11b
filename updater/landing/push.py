"""Push mode: clone, bump, commit and push straight to the branch, winning every race.

The attempts are `updater.landing.skeleton.land`'s (refresh → re-apply → decide → publish); this
module is push mode's steps (`PushMode`):
- refresh: clone on the first attempt, else fetch the new tip and reset to it; when the tip is
  the commit an earlier attempt pushed (its answer was lost), the bump has landed: "pushed";
- re-apply: plan the bump from scratch on the tip (read only; the engine's rules hold);
- nothing to do: the tip already carries the bump (another pipeline pushed the same image) →
  "unchanged", no commit, exit 0; a *newer* version on the tip is the skeleton's superseded rule;
- publish: validate, write, commit and push (one atomic ref update: a run that fails or is killed
  pushes nothing); with `--commit-via api` GitHub makes the commit instead, on the tip this attempt
  planned on (`updater.landing.api_commit`), and a moved tip is the same race as a rejected push.
`settings_from_request` + `land_push` are the entry, dispatched by `updater.landing.route`.
"""

from __future__ import annotations

import logging

from updater.auth import RepoAuth, open_api
from updater.bump.engine import apply_plan, plan_bump, validate_plan
from updater.bump.model import BumpPlan
from updater.errors import PolicyRefused
from updater.git.identity import Identity
from updater.git.workspace import Workspace
from updater.landing import api_commit
from updater.landing.message import render_message
from updater.landing.result import LandingResult, Outcome
from updater.landing.settings import LandingSettings
from updater.landing.skeleton import NewerInTheWay, Replanned, author_for, land, superseded_warning
from updater.manifests.locate import KUSTOMIZATION_NAMES

log = logging.getLogger("updater.landing")


def land_push(settings: LandingSettings) -> LandingResult:
    """Land the bump on the branch (or, with --dry-run, say what would land)."""
    with PushMode(settings) as mode:
        return land(mode, retry=settings.retry, dry_run=settings.dry_run,
                    what=f"landing the bump on {settings.repo_url}")


def open_workspace(settings: LandingSettings) -> Workspace:
    """The clone every mode starts from: shallow; with --path globs, partial + sparse, and the sparse
    set also holds every kustomization file (a few small files) so validation can see them."""
    sparse = (*settings.paths, *(f"**/{name}" for name in KUSTOMIZATION_NAMES)) if settings.paths else ()
    return Workspace.clone(settings.repo_url, credentials=settings.credentials, branch=settings.branch,
                           sparse=sparse, timeout=settings.git_timeout, parent=settings.workdir,
                           signing=settings.signing)


class PushMode:
    """Push mode's steps; carries between attempts the clone and the last commit it pushed."""

    def __init__(self, settings: LandingSettings) -> None:
        self.settings = settings
        self._workspace: Workspace | None = None
        self._author: Identity | None = None
        self._pushed: tuple[str, BumpPlan] | None = None  # (commit, plan) of the last push tried
        self._tip = ""
        forge = settings.api_forge
        # --commit-via api: GitHub makes the commits, authenticated as git is (an App's tokens refresh)
        self._commits = (api_commit.commits_of(open_api(forge, settings.auth or RepoAuth(settings.repo_url,
                                                                                        settings.credentials),
                                                        settings=settings.api))
                         if forge is not None and settings.credentials.token else None)

    def __enter__(self) -> PushMode:
        return self

    def __exit__(self, *_: object) -> None:
        if self._workspace is not None:
            self._workspace.close()

    @property
    def workspace(self) -> Workspace:
        assert self._workspace is not None, "refresh() clones first"
        return self._workspace

    def refresh(self, number: int) -> LandingResult | None:
        if self._workspace is None:
            self._workspace = open_workspace(self.settings)
            self._tip = self._workspace.head()
            self._author = author_for(self._workspace, self.settings.author)
        else:
            self._tip = self._workspace.refresh()
        if self._pushed and self._pushed[0] == self._tip:  # our earlier push landed although its answer was lost
            return self._result("pushed", self._pushed[1], commit=self._tip)
        return None

    def replan(self, number: int) -> Replanned[None]:
        s = self.settings
        try:
            plan = plan_bump(self.workspace.root, s.images, paths=s.paths,
                             allow_downgrade=s.allow_downgrade, allow_missing=s.allow_missing)
        except PolicyRefused as refusal:
            raise NewerInTheWay(str(refusal)) from refusal
        if s.governance is not None:  # permanent: a refusal here is exit 4 with nothing pushed
            s.governance.check(plan, s.requested, on_pr=False)
        return Replanned(plan, None)

    def superseded(self, refusal: NewerInTheWay) -> LandingResult:
        branch = self.workspace.branch
        warning = superseded_warning(f"a newer version is already on {branch} (pushed while this run retried): "
                                     f"{refusal}")
        log.warning("%s", warning)
        return self._result("unchanged", BumpPlan(), commit=self._tip, warnings=(warning,))

    def nothing_to_do(self, work: Replanned[None]) -> LandingResult:
        return self._result("unchanged", work.plan, commit=None if self.settings.dry_run else self._tip)

    def preview(self, work: Replanned[None]) -> LandingResult:
        if self.settings.validate:
            self._validate(work.plan)
        return self._result("unchanged", work.plan)

    def publish(self, work: Replanned[None]) -> LandingResult:
        s, workspace, plan = self.settings, self.workspace, work.plan
        if s.validate:
            self._validate(plan)
        apply_plan(workspace.root, plan)
        author = self._author or author_for(workspace, s.author)
        message = render_message(s.message_template, plan, s.requested, s.ci)
        if self._commits is not None:  # GitHub makes (and signs) the commit; a moved tip is PushRejected
            commit = api_commit.commit_on(self._commits, branch=workspace.branch, tip=self._tip, message=message,
                                          plan=plan)
            return self._result("pushed", plan, commit=commit)
        commit = workspace.commit(message, files=plan.files, author=author, committer=s.committer or author)
        self._pushed = (commit, plan)
        workspace.push()
        return self._result("pushed", plan, commit=commit)

    def _validate(self, plan: BumpPlan) -> None:
        """A Kustomize build needs files outside the --path globs (bases, components, patches): in a
        sparse clone of a tree that has kustomizations, check out the whole tree before validating.
        Without kustomizations validation builds nothing, and the sparse clone stays sparse."""
        workspace = self.workspace
        if workspace.sparse and any(next(workspace.root.rglob(name), None) for name in KUSTOMIZATION_NAMES):
            log.info("validation needs the whole tree (kustomizations present): leaving the sparse checkout")
            workspace.widen()
        validate_plan(workspace.root, plan, kube_version=self.settings.kube_version)

    def _result(self, outcome: Outcome, plan: BumpPlan, *, commit: str | None = None,
                warnings: tuple[str, ...] = ()) -> LandingResult:
        branch = self.workspace.branch
        return LandingResult(outcome, plan, branch, branch, commit, warnings=warnings)
