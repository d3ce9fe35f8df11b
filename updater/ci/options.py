"""The table of `updater bump` options a CI step can set, and the pure mapping from input values to argv.

Input names are the CLI flag names in kebab-case, with plural names for repeatable flags
(`images` -> `--image`, one per item). GitHub reads them from `INPUT_<NAME>` (the runner keeps the
hyphens), GitLab from `UPDATER_<NAME>` with hyphens as underscores. The token is never an option:
it reaches the CLI through `--token-env`, so it is never on a command line.

No I/O here: values in, argument list out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from updater.errors import BadInput

Kind = Literal["value", "list", "bool"]


@dataclass(frozen=True)
class Option:
    name: str  # the input name, e.g. "auto-merge"
    flag: str  # the CLI flag, e.g. "--auto-merge"
    kind: Kind  # value: one string; list: newline/comma separated, one flag each; bool: a switch
    help: str


OPTIONS: tuple[Option, ...] = (
    Option("images", "--image", "list", "new image references, one per line (or comma separated)"),
    Option("target", "--target", "value", "a named target from .updater.yml, e.g. api/staging"),
    Option("config", "--config", "value", "config file (default: .updater.yml in the manifest repo)"),
    Option("allow-downgrade", "--allow-downgrade", "bool", "allow moving to a lower version"),
    Option("allow-missing", "--allow-missing", "bool", "succeed when no reference to the image is found"),
    Option("dir", "--dir", "value", "edit this checked-out directory instead of cloning a repository"),
    Option("paths", "--path", "list", "globs limiting the files to change, one per line"),
    Option("no-validate", "--no-validate", "bool", "skip re-building the Kustomize trees the edit touches"),
    Option("repo", "--repo", "value", "manifest repository URL (default: this repository)"),
    Option("branch", "--branch", "value", "branch to push to or target (default: the remote's default)"),
    Option("mode", "--mode", "value", "push or pr (default: pr on GitHub/GitLab)"),
    Option("message", "--message", "value", "commit message template"),
    Option("author", "--author", "value", "commit author, 'Name <email>'"),
    Option("committer", "--committer", "value", "committer, 'Name <email>'"),
    Option("retries", "--retries", "value", "attempts at most for push races and transient failures"),
    Option("retry-timeout", "--retry-timeout", "value", "give up retrying after this many seconds"),
    Option("retry-wait", "--retry-wait", "value", "first backoff step in seconds (doubled per attempt)"),
    Option("retry-wait-max", "--retry-wait-max", "value", "cap in seconds on any single wait between attempts"),
    Option("provider", "--provider", "value", "github or gitlab, when the URL does not tell"),
    Option("api-url", "--api-url", "value", "forge API base URL (GitHub Enterprise, self-managed GitLab)"),
    Option("pr-branch", "--pr-branch", "value", "pull request branch name template"),
    Option("title", "--title", "value", "pull request title template"),
    Option("body", "--body", "value", "pull request body template"),
    Option("labels", "--label", "list", "labels to add, one per line (or comma separated)"),
    Option("reviewers", "--reviewer", "list", "reviewers to request"),
    Option("assignees", "--assignee", "list", "assignees"),
    Option("draft", "--draft", "bool", "open the pull request as a draft"),
    Option("auto-merge", "--auto-merge", "bool", "merge automatically once checks pass"),
    Option("merge-method", "--merge-method", "value", "merge, squash or rebase"),
    Option("dry-run", "--dry-run", "bool", "show what would change; push nothing"),
)

# YAML 1.2 core-schema booleans, as GitHub's own `core.getBooleanInput` accepts them.
_TRUE = ("true", "True", "TRUE")
_FALSE = ("false", "False", "FALSE")


def split_list(value: str) -> list[str]:
    """Items of a list input: one per line or comma separated, blanks dropped."""
    return [item.strip() for line in value.splitlines() for item in line.split(",") if item.strip()]


def parse_bool(value: str, *, name: str) -> bool:
    text = value.strip()
    if text in _TRUE:
        return True
    if text in _FALSE or not text:
        return False
    raise BadInput(f"input {name!r} must be true or false, not {text!r}")


def to_argv(values: Mapping[str, str]) -> list[str]:
    """The `updater bump` arguments for the given inputs (name -> raw string); empty inputs are left out."""
    argv: list[str] = []
    for option in OPTIONS:
        raw = values.get(option.name, "")
        if option.kind == "bool":
            if parse_bool(raw, name=option.name):
                argv.append(option.flag)
        elif option.kind == "list":
            for item in split_list(raw):
                argv += [option.flag, item]
        elif raw.strip():
            # Templates keep their inner whitespace and newlines; only the ends are trimmed.
            argv += [option.flag, raw.strip()]
    return argv
