"""`updater bump` without `--repo`: edit the files under `--dir`; no git command runs.

plan → validate (unless --no-validate) → apply (unless --dry-run) → print the diff (or --json).
Errors propagate as `UpdaterError`s for the CLI to map to exit codes; nothing is written unless the
whole plan validated.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from updater.bump.engine import apply_plan, plan_bump, validate_plan
from updater.bump.report import plan_diff, plan_to_json, summary
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
    dry_run: bool = False
    json: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> LocalSettings:
        return cls(
            root=Path(args.dir),
            images=tuple(ImageRef.parse(text) for text in args.image),
            paths=tuple(args.path),
            allow_downgrade=args.allow_downgrade,
            allow_missing=args.allow_missing,
            validate=not args.no_validate,
            allow_remote=bool(getattr(args, "allow_remote_resources", False)),
            dry_run=args.dry_run,
            json=args.json,
        )


def run_local(args: argparse.Namespace) -> int:
    settings = LocalSettings.from_args(args)
    plan = plan_bump(
        settings.root, settings.images, paths=settings.paths,
        allow_downgrade=settings.allow_downgrade, allow_missing=settings.allow_missing,
    )
    for warning in plan.warnings:
        log.warning("warning: %s", warning)
    if plan.changes and settings.validate:
        validate_plan(settings.root, plan, allow_remote=settings.allow_remote)
    if plan.changes and not settings.dry_run:
        apply_plan(settings.root, plan)
    log.info("%s", summary(plan, dry_run=settings.dry_run))
    if settings.json:
        print(json.dumps(plan_to_json(plan, dry_run=settings.dry_run), indent=2))
    else:
        sys.stdout.write(plan_diff(plan))
    return 0
