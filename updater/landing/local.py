"""`updater bump` without `--repo`: edit the files under `--dir`; no git command runs.

plan → validate (unless --no-validate) → apply (unless --dry-run) → print the diff (or --json);
`land_local` is all but the print.
Errors propagate as `UpdaterError`s for the CLI to map to exit codes; nothing is written unless the
whole plan validated.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from updater.bump.governance import Governance
from updater.bump.engine import apply_plan, plan_bump, validate_plan
from updater.bump.report import summary
from updater.landing.output import Landed, render_local
from updater.landing.settings import schema_version
from updater.options.request import BumpRequest
from updater.refs import ImageRef

log = logging.getLogger("updater.bump")


@dataclass(frozen=True)
class LocalSettings:
    root: Path
    images: tuple[ImageRef, ...]
    paths: tuple[str, ...] = ()  # no globs: the whole tree
    allow_downgrade: bool = False  # downgrades are usually a mistaken pipeline; refuse by default
    allow_missing: bool = False  # a bump that finds nothing is usually a wrong --image or --path
    validate: bool = True  # a broken kustomize tree must not be written
    allow_remote: bool = False  # the repository is untrusted: validation fetches nothing unless asked
    kube_version: str | None = None  # the Kubernetes schemas validation checks objects against (None: none)
    dry_run: bool = False
    json: bool = False
    governance: Governance | None = None  # the repository's policy: checked before anything is written

    @classmethod
    def from_request(cls, request: BumpRequest) -> LocalSettings:
        return cls(
            root=Path(request.dir),
            images=tuple(ImageRef.parse(text) for text in request.image),
            paths=request.path,
            allow_downgrade=request.allow_downgrade,
            allow_missing=request.allow_missing,
            validate=not request.no_validate,
            allow_remote=request.allow_remote_resources,
            kube_version=schema_version(request),
            dry_run=request.dry_run,
            json=request.json,
            governance=request.governance,
        )


# Local mode makes no commit: what the request says about commits would silently do nothing.
NO_COMMIT = "local mode (no --repo) makes no commit: {what} not used; commit the edit yourself"


def land_local(request: BumpRequest) -> Landed:
    settings = LocalSettings.from_request(request)
    unused = [what for what, given in (("--sign / sign:", request.sign),
                                       ("--commit-via api / commit-via:", request.commit_via == "api")) if given]
    if unused:
        log.warning("warning: %s", NO_COMMIT.format(what=" and ".join(unused)))
    plan = plan_bump(
        settings.root, settings.images, paths=settings.paths,
        allow_downgrade=settings.allow_downgrade, allow_missing=settings.allow_missing,
    )
    for warning in plan.warnings:
        log.warning("warning: %s", warning)
    if settings.governance is not None:
        settings.governance.check(plan, request.image, on_pr=False)
    if plan.changes and settings.validate:
        validate_plan(settings.root, plan, allow_remote=settings.allow_remote, kube_version=settings.kube_version)
    if plan.changes and not settings.dry_run:
        apply_plan(settings.root, plan)
    log.info("%s", summary(plan, dry_run=settings.dry_run))
    return render_local(plan, dry_run=settings.dry_run)
