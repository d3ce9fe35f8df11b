"""What a pull request says, and the state the bot keeps in it. Pure: values in, values out.

One PR carries every bump proposed for one *target*. Its state — the proposed references, the
paths each was limited to, where each came from, and the base commit the branch was generated
from — is written as a hidden marker into both the branch's commit message and the PR body:

    <!-- updater:state {"v":1,"target":"api","base":"main","base_sha":"…","bumps":[{"ref":"ghcr.io/acme/api:1.4.2",…}]} -->

The commit message is the source of truth (the branch is only ever replaced with a lease, so it is
updated one writer at a time); the body is re-rendered from it. `merge_bumps` folds a new request
into what the PR already proposes: the union, one reference per image, never an older version
replacing a newer one (unless downgrades are allowed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from updater.bump.model import Change
from updater.errors import BadInput
from updater import templates
from updater.refs import ImageRef
from updater.versions import is_downgrade

MARKER_PREFIX = "<!-- updater:state "
_MARKER = re.compile(r"<!-- updater:state (\{.*?\}) -->", re.DOTALL)
STATE_VERSION = 1
MERGE_METHODS = ("merge", "squash", "rebase")
DEFAULT_BRANCH_TEMPLATE = "updater/{base}/{target}"
_GLOB_CHARS = set("*?[")
_BAD_REF_CHARS = re.compile(r"[^A-Za-z0-9._/-]+")


@dataclass(frozen=True)
class ProposedBump:
    """One `--image` request as the PR carries it."""

    ref: str  # the new reference, as given to --image
    paths: tuple[str, ...] = ()  # the --path globs it was limited to (empty: the whole tree)
    source: str | None = None  # link to the commit that produced the image (from CI variables)
    pipeline: str | None = None  # link to the pipeline that ran the bump

    @property
    def image(self) -> str:
        return ImageRef.parse_reference(self.ref).canonical_name


@dataclass(frozen=True)
class ProposalState:
    target: str
    base: str
    bumps: tuple[ProposedBump, ...] = ()
    base_sha: str | None = None  # the base commit the branch was regenerated from
    head: str | None = None  # PR body only: the branch commit this body describes (saves a fetch)
    auto_merge: str | None = None  # merge method once --auto-merge was asked: rebase re-enables it

    @property
    def refs(self) -> tuple[str, ...]:
        return tuple(b.ref for b in self.bumps)


@dataclass(frozen=True)
class Merged:
    """The union of what a PR proposed and a new request."""

    bumps: tuple[ProposedBump, ...]
    superseded: tuple[tuple[str, str], ...] = ()  # (old ref, new ref) replaced in the PR
    refused: tuple[tuple[str, str], ...] = ()  # (proposed ref, older requested ref) kept as it was
    added: tuple[str, ...] = field(default=())  # refs new to the PR


def merge_bumps(existing: Sequence[ProposedBump], requested: Sequence[ProposedBump], *,
                allow_downgrade: bool = False) -> Merged:
    """Fold `requested` into `existing`: one entry per image; the newest version wins."""
    bumps = list(existing)
    superseded, refused, added = [], [], []
    for new in requested:
        index = next((i for i, old in enumerate(bumps) if old.image == new.image), None)
        if index is None:
            bumps.append(new)
            added.append(new.ref)
            continue
        old = bumps[index]
        if old.ref == new.ref:  # already proposed; widen its paths if this request names others
            paths = tuple(sorted(set(old.paths) | set(new.paths))) if old.paths and new.paths else ()
            bumps[index] = replace(old, paths=paths)
            continue
        old_ref, new_ref = ImageRef.parse_reference(old.ref), ImageRef.parse_reference(new.ref)
        if is_downgrade(old_ref.tag, new_ref.tag) and not allow_downgrade:
            refused.append((old.ref, new.ref))
            continue
        bumps[index] = new
        superseded.append((old.ref, new.ref))
    return Merged(tuple(bumps), tuple(superseded), tuple(refused), tuple(added))


# -- the marker ---------------------------------------------------------------------------------

def emit_marker(state: ProposalState) -> str:
    data = {
        "v": STATE_VERSION, "target": state.target, "base": state.base, "base_sha": state.base_sha,
        **({"head": state.head} if state.head else {}),
        **({"auto_merge": state.auto_merge} if state.auto_merge else {}),
        "bumps": [
            {k: v for k, v in (("ref", b.ref), ("paths", list(b.paths)), ("source", b.source),
                               ("pipeline", b.pipeline)) if v}
            for b in state.bumps
        ],
    }
    # ">" escaped so the JSON can never close the HTML comment early.
    text = json.dumps(data, separators=(",", ":"), sort_keys=True).replace(">", "\\u003e")
    return f"{MARKER_PREFIX}{text} -->"


def parse_marker(text: str) -> ProposalState | None:
    """The state in a PR body or commit message; None when absent or unreadable (not ours)."""
    match = _MARKER.search(text or "")
    if not match:
        return None
    try:
        data = json.loads(match.group(1))
        if data.get("v") != STATE_VERSION:
            return None
        bumps = tuple(
            ProposedBump(ref=str(b["ref"]), paths=tuple(str(p) for p in b.get("paths", ())),
                         source=b.get("source"), pipeline=b.get("pipeline"))
            for b in data.get("bumps", ())
        )
        for bump in bumps:
            ImageRef.parse_reference(bump.ref)
        return ProposalState(target=str(data["target"]), base=str(data["base"]), bumps=bumps,
                             base_sha=data.get("base_sha"), head=data.get("head"),
                             auto_merge=data.get("auto_merge") if data.get("auto_merge") in MERGE_METHODS else None)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):  # RecursionError: deep JSON a forge returned
        return None


# -- naming -------------------------------------------------------------------------------------

def target_name(*, target: str | None, paths: Sequence[str], images: Sequence[str]) -> str:
    """What one PR is for: --target, else the first --path up to its first glob, else the app
    (the last component of the first image's name)."""
    if target:
        return target
    for path in paths:
        parts = []
        for part in path.strip().removeprefix("./").strip("/").split("/"):
            if _GLOB_CHARS & set(part):
                break
            parts.append(part)
        if parts and any(parts):
            return "/".join(p for p in parts if p)
    if images:
        return ImageRef.parse_reference(images[0]).name.rsplit("/", 1)[-1]
    raise BadInput("cannot name the pull request's branch: give --image, --path or --target")


def branch_name(template: str | None, *, base: str, target: str, app: str) -> str:
    """The PR's head branch: `template` (default updater/{base}/{target}) made a valid git ref."""
    raw = render(template or DEFAULT_BRANCH_TEMPLATE, {"base": base, "target": target, "app": app},
                 flag="--pr-branch")
    parts = []
    for part in _BAD_REF_CHARS.sub("-", raw).split("/"):
        part = part.strip(".-").removesuffix(".lock")
        part = re.sub(r"\.{2,}", ".", part)
        if part:
            parts.append(part)
    name = "/".join(parts)
    if not name:
        raise BadInput(f"--pr-branch {template!r}: renders to an empty branch name")
    return name


# -- title, body, commit message ----------------------------------------------------------------

def template_values(state: ProposalState) -> dict[str, str]:
    refs = [ImageRef.parse_reference(b.ref) for b in state.bumps]
    first = refs[0] if refs else None
    return {
        "target": state.target, "base": state.base,
        "image": str(first) if first else "", "name": first.name if first else "",
        "app": first.name.rsplit("/", 1)[-1] if first else "",
        "tag": (first.tag or first.digest or "") if first else "",
        "images": ", ".join(str(r) for r in refs),
        "summary": ", ".join(f"{r.name.rsplit('/', 1)[-1]} {r.tag or r.digest}" for r in refs),
        "paths": ", ".join(sorted({p for b in state.bumps for p in b.paths})) or ".",
    }


def render(template: str, values: Mapping[str, str], *, flag: str) -> str:
    """`template` with {name} fields filled; anything but a known field is bad input naming the flag
    (the rules and their reasons: `updater.templates`)."""
    return templates.render(template, values, flag=flag)


def check_templates(*, title_template: str | None, body_template: str | None, branch_template: str | None) -> None:
    """Fail on an unknown {field} before anything is cloned or pushed (BadInput naming the flag)."""
    sample = ProposalState("target", "main", (ProposedBump("example.com/app:1.0"),))
    title(sample, title_template)
    if body_template:
        render(body_template, template_values(sample), flag="--body")
    branch_name(branch_template, base="main", target="target", app="app")


def title(state: ProposalState, template: str | None = None) -> str:
    values = template_values(state)
    if template:
        return render(template, values, flag="--title")
    return f"Bump {values['summary']}" + (f" in {state.target}" if state.target != values["app"] else "")


def changes_table(changes: Sequence[Change]) -> str:
    rows = ["| File | Line | Where | Old | New |", "| --- | ---: | --- | --- | --- |"]
    for c in sorted(changes, key=lambda c: (c.path, c.line)):
        rows.append(f"| `{c.path}` | {c.line} | {c.kind} | `{c.old}` | `{c.new}` |")
    return "\n".join(rows)


def commit_message(state: ProposalState, changes: Sequence[Change], *, title_text: str) -> str:
    """The branch commit: title, the table, and the marker (the state's source of truth)."""
    return f"{title_text}\n\n{changes_table(changes)}\n\n{emit_marker(state)}\n"


def body(state: ProposalState, table: str, *, template: str | None = None) -> str:
    """The PR description: the user's text, the table of changes, where each bump came from, the marker."""
    parts = [render(template, template_values(state), flag="--body")] if template else []
    parts.append(f"Updates image references on `{state.base}` for **{state.target}**:")
    parts.append(table)
    origins = [_origin(b) for b in state.bumps if b.source or b.pipeline]
    if origins:
        parts.append("\n".join(origins))
    parts.append("This pull request is maintained by updater: it is regenerated from the base branch when "
                 "the base moves or a newer version is bumped. Edits pushed to its branch will be replaced.")
    parts.append(emit_marker(state))
    return "\n\n".join(parts) + "\n"


def table_from_message(message: str) -> str:
    """The changes table inside a branch commit message written by `commit_message`."""
    lines = [line for line in message.splitlines() if line.startswith("|")]
    return "\n".join(lines)


def source_links(env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(source commit URL, pipeline URL) from GitHub Actions or GitLab CI variables, when present."""
    if env.get("GITHUB_ACTIONS") and env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        repo = f"{server}/{env['GITHUB_REPOSITORY']}"
        source = f"{repo}/commit/{env['GITHUB_SHA']}" if env.get("GITHUB_SHA") else None
        pipeline = f"{repo}/actions/runs/{env['GITHUB_RUN_ID']}" if env.get("GITHUB_RUN_ID") else None
        return source, pipeline
    if env.get("GITLAB_CI") and env.get("CI_PROJECT_URL"):
        source = f"{env['CI_PROJECT_URL']}/-/commit/{env['CI_COMMIT_SHA']}" if env.get("CI_COMMIT_SHA") else None
        return source, env.get("CI_PIPELINE_URL")
    return None, None


def _origin(bump: ProposedBump) -> str:
    links = [f"[source commit]({bump.source})" if bump.source else "",
             f"[pipeline]({bump.pipeline})" if bump.pipeline else ""]
    return f"- `{bump.ref}`: " + ", ".join(link for link in links if link)
