"""Filling user templates (commit message, PR title, body, branch) without Python's format machinery.

Templates can come from `.updater.yml`, which anyone able to open a pull request can write, so they
are untrusted. `str.format` would let `{ci.__class__.__missing__.__globals__[os].environ}` walk from
a format argument to the process environment, and `{x[0]}` / format specs would spell a secret one
character at a time past masking. Here a template is split with `string.Formatter().parse` (the same
`{{`/`}}` escapes users know) and each field must be exactly one documented name, or `ci[VAR]` with
VAR in `CI_ALLOWLIST`; no attribute access, no other indexing, no `!conversion`, no `:format spec`.
Substitution is plain string concatenation. Pure: no I/O, no environment.
"""

from __future__ import annotations

import re
import string
from collections.abc import Collection, Mapping

from updater.errors import BadInput

# CI variables a template may name: identifiers of the run, never a credential. GitLab's
# CI_REPOSITORY_URL embeds the job token (https://gitlab-ci-token:<token>@host/...), so it is not
# here, nor is anything with TOKEN/PASSWORD/JWT/KEY in it; an unlisted name is refused, not blanked.
CI_ALLOWLIST = frozenset({
    # GitLab CI
    "CI_COMMIT_SHA", "CI_COMMIT_SHORT_SHA", "CI_COMMIT_REF_NAME", "CI_COMMIT_REF_SLUG", "CI_COMMIT_BRANCH",
    "CI_COMMIT_TAG", "CI_COMMIT_TITLE", "CI_COMMIT_MESSAGE", "CI_COMMIT_DESCRIPTION", "CI_COMMIT_AUTHOR", "CI_DEFAULT_BRANCH", "CI_PIPELINE_ID", "CI_PIPELINE_IID",
    "CI_PIPELINE_URL", "CI_PIPELINE_SOURCE", "CI_JOB_ID", "CI_JOB_NAME", "CI_JOB_URL", "CI_PROJECT_ID",
    "CI_PROJECT_NAME", "CI_PROJECT_NAMESPACE", "CI_PROJECT_PATH", "CI_PROJECT_PATH_SLUG", "CI_PROJECT_URL",
    "CI_SERVER_HOST", "CI_SERVER_URL", "CI_ENVIRONMENT_NAME", "CI_MERGE_REQUEST_IID", "GITLAB_USER_LOGIN",
    "GITLAB_USER_NAME",
    # GitHub Actions
    "GITHUB_SHA", "GITHUB_REF", "GITHUB_REF_NAME", "GITHUB_HEAD_REF", "GITHUB_BASE_REF", "GITHUB_REPOSITORY",
    "GITHUB_REPOSITORY_OWNER", "GITHUB_RUN_ID", "GITHUB_RUN_NUMBER", "GITHUB_RUN_ATTEMPT", "GITHUB_WORKFLOW",
    "GITHUB_JOB", "GITHUB_ACTOR", "GITHUB_SERVER_URL", "GITHUB_EVENT_NAME",
})
_NAME = re.compile(r"[a-z][a-z_]*", re.ASCII)
_CI_FIELD = re.compile(r"ci\[([A-Z][A-Z0-9_]*)\]", re.ASCII)


def fields(template: str, *, flag: str) -> list[str]:
    """The field names of `template`, in order; BadInput naming `flag` when it is malformed or a
    field uses a conversion or format spec (they are not part of the template language)."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as err:
        raise BadInput(f"{_where(flag, template)}: malformed template: {err} (write literal braces as {{{{ and }}}})") from err
    names = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if conversion or spec:
            suffix = (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise BadInput(f"{_where(flag, template)}: {{{name}{suffix}}}: conversions and format specs are not supported; "
                           f"write {{{name}}}")
        names.append(name)
    return names


def check(template: str, known: Collection[str], *, flag: str, ci: bool = False) -> None:
    """Raise BadInput naming `flag` unless every field is one of `known` (or an allowed `ci[VAR]`)."""
    for name in fields(template, flag=flag):
        _check_field(name, known, where=_where(flag, template), ci=ci)


def check_shape(template: str, *, where: str) -> None:
    """Check only what holds for every template, wherever it is used: well-formed, and each field a
    plain name or an allowed `ci[VAR]` (for `.updater.yml`, which does not know the field lists)."""
    for name in fields(template, flag=where):
        if not _NAME.fullmatch(name):
            _check_field(name, (), where=_where(where, template), ci=True)


def render(template: str, values: Mapping[str, str], *, flag: str,
           ci_values: Mapping[str, str] | None = None) -> str:
    """`template` with each field replaced by its value (a `ci[VAR]` missing from `ci_values`: "")."""
    out = []
    for literal, name, _, _ in _parse_checked(template, values, flag=flag, ci=ci_values is not None):
        out.append(literal)
        if name is None:
            continue
        match = _CI_FIELD.fullmatch(name)
        out.append((ci_values or {}).get(match[1], "") if match else values[name])
    return "".join(out)


def _parse_checked(template: str, values: Mapping[str, str], *, flag: str,
                   ci: bool) -> list[tuple[str, str | None, str | None, str | None]]:
    check(template, values.keys(), flag=flag, ci=ci)
    return list(string.Formatter().parse(template))


def _where(flag: str, template: str) -> str:
    """`flag` and the template, shortened to stay one line (repr escapes its newlines)."""
    shown = template if len(template) <= 60 else template[:57] + "..."
    return f"{flag} {shown!r}"


def _check_field(name: str, known: Collection[str], *, where: str, ci: bool) -> None:
    if name in known:
        return
    match = _CI_FIELD.fullmatch(name)
    if ci and match:
        if match[1] in CI_ALLOWLIST:
            return
        raise BadInput(f"{where}: {{{name}}}: {match[1]} is not a CI variable templates may use (it may carry "
                       f"credentials); use one of the run's identifiers listed in README \"Security\" "
                       f"(e.g. CI_COMMIT_SHA, CI_PIPELINE_URL, GITHUB_RUN_ID)")
    listed = sorted(known) + (["ci[VAR]"] if ci else [])
    raise BadInput(f"{where}: unknown field {{{name}}} (templates name fields only, without attributes or "
                   f"indexing); known: " + ", ".join("{" + k + "}" for k in listed))
