"""Commit messages for a bump: a template filled from the plan and CI variables, plus trailers that
link the commit back to the pipeline that made it.

Pure: takes the plan, the requested references and a `CiContext` (built once from the environment
by the settings), returns text. Placeholders (`{name}`, `{{`/`}}` for literal braces; filled by
`updater.templates`, which allows nothing else — no attributes, indexing or format specs):

    {summary}  "ghcr.io/acme/api to 1.4.2" (several images: joined with "and")
    {image}    first requested image name          {tag}    its new tag/digest, e.g. 1.4.2
    {images}   every requested reference, comma-separated
    {old}      distinct old versions, comma-separated   {new}    distinct new versions
    {files}    changed files, comma-separated      {count}  number of changed values
    {changes}  one "- path:line name old → new" line per change
    {ci[NAME]} a CI variable from `template.CI_ALLOWLIST` (never a credential), empty when unset

Trailers `Updater-Source-Commit:` and `Updater-Pipeline:` are appended when CI tells us them.
Used by push mode and pull-request mode (PR titles can use the same placeholders).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from updater.bump.model import BumpPlan, Change
from updater import templates
from updater.secrets import mask

DEFAULT_TEMPLATE = "Bump {summary}\n\n{changes}"
FIELDS = ("summary", "image", "tag", "images", "old", "new", "files", "count", "changes")
PLACEHOLDERS = (*FIELDS, "ci")


@dataclass(frozen=True)
class CiContext:
    """What the CI environment says about the run that asked for this bump."""

    source_commit: str | None = None
    pipeline_url: str | None = None
    variables: Mapping[str, str] = field(default_factory=dict)

    def trailers(self) -> list[str]:
        lines = []
        if self.source_commit:
            lines.append(f"Updater-Source-Commit: {self.source_commit}")
        if self.pipeline_url:
            lines.append(f"Updater-Pipeline: {self.pipeline_url}")
        return lines


def ci_context(env: Mapping[str, str]) -> CiContext:
    """GitHub Actions (GITHUB_SHA, GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID) or
    GitLab CI (CI_COMMIT_SHA, CI_PIPELINE_URL); variables for templates: only the allowlisted ones."""
    variables = {name: value for name, value in env.items() if name in templates.CI_ALLOWLIST}
    if env.get("GITHUB_ACTIONS") == "true" or env.get("GITHUB_SHA"):
        pipeline = None
        if all(env.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")):
            pipeline = f"{env['GITHUB_SERVER_URL']}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
        return CiContext(env.get("GITHUB_SHA") or None, pipeline, variables)
    return CiContext(env.get("CI_COMMIT_SHA") or None, env.get("CI_PIPELINE_URL") or None, variables)


def split_reference(text: str) -> tuple[str, str]:
    """("ghcr.io/acme/api", "1.4.2@sha256:…") from "ghcr.io/acme/api:1.4.2@sha256:…"; no version → ""."""
    name, at, digest = text.partition("@")
    colon = name.rfind(":")
    tag = ""
    if colon > name.rfind("/"):
        name, tag = name[:colon], name[colon + 1:]
    return name, tag + (f"@{digest}" if at else "")


def check_template(template: str, *, flag: str = "--message") -> None:
    """Raise BadInput naming `flag` when the template is malformed or uses an unknown placeholder."""
    templates.check(template, FIELDS, flag=flag, ci=True)


def template_values(plan: BumpPlan, requested: Sequence[str]) -> dict[str, str]:
    """The placeholder values for `plan`, applied for the `requested` reference texts."""
    split = [split_reference(ref) for ref in requested]
    olds = _distinct(_version(c.old, c) for c in plan.changes)
    news = _distinct(_version(c.new, c) for c in plan.changes)
    return {
        "summary": " and ".join(f"{name} to {version}" if version else name for name, version in split),
        "image": split[0][0] if split else "",
        "tag": split[0][1] if split else "",
        "images": ", ".join(requested),
        "old": ", ".join(olds),
        "new": ", ".join(news),
        "files": ", ".join(plan.files),
        "count": str(len(plan.changes)),
        "changes": "\n".join(f"- {c.path}:{c.line} {describe(c)}" for c in plan.changes),
    }


def render_message(template: str, plan: BumpPlan, requested: Sequence[str], ci: CiContext) -> str:
    """The full commit message: the filled template, then a blank line and the CI trailers."""
    body = templates.render(template, template_values(plan, requested), flag="--message",
                            ci_values=ci.variables).strip()
    trailers = ci.trailers()
    return mask(body + ("\n\n" + "\n".join(trailers) if trailers else "") + "\n")


def describe(change: Change) -> str:
    """"ghcr.io/acme/api 1.4.1 → 1.4.2", or "old → new" when the names differ."""
    if change.kind == "marker-tag":
        return f"{change.image} {change.old} → {change.new}"
    old_name, old_version = split_reference(change.old)
    new_name, new_version = split_reference(change.new)
    if old_name == new_name and old_version and new_version:
        return f"{new_name} {old_version} → {new_version}"
    return f"{change.old} → {change.new}"


def _version(text: str, change: Change) -> str:
    return text if change.kind == "marker-tag" else (split_reference(text)[1] or text)


def _distinct(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
