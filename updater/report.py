"""The one report of an `updater bump` run (local, push or pull-request mode) and its JSON form.

`Report` is what the CLI's `--json` prints (`to_json`) and what the CI adapters read back from it
(`from_json`, via `updater.ci.report`): the GitHub Actions outputs and step summary and the GitLab
dotenv report all come from this one type. The JSON keys are the documented output; each mode's
keys are listed in `to_json`. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from updater.bump.model import BumpPlan, Change, Kind

Mode = Literal["local", "push", "pr"]


@dataclass(frozen=True)
class Report:
    outcome: str  # local: changed/unchanged; push: pushed/unchanged; pr: created/updated/merged/unchanged/closed
    changed: bool
    changes: tuple[Change, ...] = ()
    changed_files: tuple[str, ...] = ()
    current: tuple[Change, ...] = ()  # references already at the requested version
    warnings: tuple[str, ...] = ()
    dry_run: bool = False
    mode: Mode = "local"
    repo: str | None = None  # repo modes: the URL without credentials
    branch: str | None = None  # the branch pushed to (push) or the PR's head branch (pr)
    base: str | None = None  # the target branch
    commit_sha: str | None = None
    attempts: int = 1
    pr_number: int | None = None
    pr_url: str | None = None
    superseded: bool = False  # a newer bump landed while this run retried: nothing pushed, not a failure

    @classmethod
    def of_plan(cls, plan: BumpPlan, *, dry_run: bool = False) -> Report:
        """Local mode's report: the plan alone."""
        return cls(outcome="changed" if plan.changes else "unchanged", changed=bool(plan.changes),
                   changes=plan.changes, changed_files=plan.files, current=plan.current, warnings=plan.warnings,
                   dry_run=dry_run)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "outcome": self.outcome, "changed": self.changed, "dry_run": self.dry_run,
            "changes": [change_to_json(c) for c in self.changes], "changed_files": list(self.changed_files),
            "current": [change_to_json(c) for c in self.current], "warnings": list(self.warnings),
        }
        if self.mode == "local":
            return data
        data.update({"mode": self.mode, "repo": self.repo, "branch": self.branch, "base": self.base,
                     "commit_sha": self.commit_sha, "attempts": self.attempts})
        if self.mode == "pr":
            data.update({"pr_number": self.pr_number, "pr_url": self.pr_url})
        data["superseded"] = self.superseded
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Report:
        """The report back from `to_json`'s output (as the CI adapters read the CLI's stdout)."""
        changes = tuple(_change(c) for c in data.get("changes", ()))
        files = tuple(data.get("changed_files") or sorted({c.path for c in changes}))
        number = data.get("pr_number")
        return cls(
            outcome=str(data.get("outcome") or ("changed" if files else "unchanged")),
            changed=bool(files) if data.get("changed") is None else bool(data["changed"]),
            changes=changes, changed_files=files, current=tuple(_change(c) for c in data.get("current", ())),
            warnings=tuple(str(w) for w in data.get("warnings", ())), dry_run=bool(data.get("dry_run", False)),
            mode=cast(Mode, data.get("mode") or "local"), repo=data.get("repo") or None,
            branch=data.get("branch") or None, base=data.get("base") or None,
            commit_sha=data.get("commit_sha") or None, attempts=int(data.get("attempts") or 1),
            pr_number=int(number) if number not in (None, "") else None, pr_url=data.get("pr_url") or None,
            superseded=bool(data.get("superseded", False)),
        )


def change_to_json(change: Change) -> dict[str, Any]:
    return {
        "path": change.path,
        "file": change.path,  # same as path: the name the issue uses
        "line": change.line,
        "kind": change.kind,
        "image": change.image,
        "old": change.old,
        "new": change.new,
    }


def _change(c: Mapping[str, Any]) -> Change:
    return Change(path=str(c["path"]), line=int(c.get("line") or 0), kind=cast(Kind, str(c.get("kind", ""))),
                  image=str(c.get("image", "")), old=str(c.get("old", "")), new=str(c.get("new", "")))
