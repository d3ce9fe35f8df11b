"""The GitHub Action's entrypoint: `INPUT_*` -> `updater bump` -> `$GITHUB_OUTPUT` and step summary.

The runner hands a container action its inputs as `INPUT_<NAME>` variables (upper case, hyphens
kept). This module builds the argument list from them (`updater.ci.options`), masks every token it
can see with `::add-mask::` before anything else is printed, runs the CLI with `--json`
(`updater.ci.report`), and writes the outputs (`pr-url`, `pr-number`, `commit-sha`, `changed`,
`changed-files`, `outcome`) and a Markdown table of the changes. The report's warnings become
`::warning::` annotations and summary lines; a failure becomes an `::error file=…,line=…::`
annotation when the message names a YAML file and line, and the CLI's exit code is the step's.

The CLI's log carries text from the manifest repository (file names, YAML), which may hold
workflow commands (`::error::`, `::stop-commands::`, ...): it is relayed between
`::stop-commands::<random>` and `::<random>::`, so the runner executes none of it, and every value
in a command we write ourselves is escaped.

Everything except `main` is pure and tested with literal values.
"""

from __future__ import annotations

import html
import posixpath
import re
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from updater.ci.options import OPTIONS, to_argv
from updater.ci.report import BumpReport, error_line, run_bump
from updater.errors import ExitCode, UpdaterError
from updater.secrets import mask, register_secret

TOKEN_INPUT = "INPUT_TOKEN"  # the explicit `token` input: it always wins
APP_ID_INPUT = "INPUT_APP-ID"
APP_KEY_INPUT = "INPUT_APP-PRIVATE-KEY"  # the `app-private-key` input: a secret, never an argument
SIGNING_KEY_INPUT = "INPUT_SIGNING-KEY"  # the `signing-key` input (with `sign`): a secret, read by name
# action.yml's `runs.env` passes the workflow's `github.token` here: the last resort, and only for a
# repository on this GitHub (it grants nothing elsewhere).
DEFAULT_TOKEN = "UPDATER_GITHUB_TOKEN"
# Tokens the user may put in the step's `env:` instead of the input, in the order they are tried
# (GITLAB_TOKEN first for a repository on GitLab).
ENV_TOKENS = ("GH_TOKEN", "GITHUB_TOKEN", "GITLAB_TOKEN")
# `path/to/file.yaml:12` in a message (manifests and config are YAML; a registry's host:port is not)
_FILE_LINE = re.compile(r"(?P<file>[\w./@+-]+\.(?:ya?ml|json)):(?P<line>\d+)")


def read_inputs(env: Mapping[str, str]) -> dict[str, str]:
    """Input name -> raw value, for every option the action knows."""
    values = {}
    for option in OPTIONS:
        key = "INPUT_" + option.name.upper().replace(" ", "_")
        values[option.name] = env.get(key, env.get(key.replace("-", "_"), ""))
    return values


def build_argv(env: Mapping[str, str]) -> list[str]:
    """The `updater bump` arguments for this step, with defaults from the workflow context.

    - `repo` defaults to this repository (`GITHUB_SERVER_URL/GITHUB_REPOSITORY.git`) unless `dir` is set;
    - when the repository is on this GitHub, `--provider github --api-url $GITHUB_API_URL` are
      added (so GitHub Enterprise works without configuration) unless given;
    - the token reaches the CLI through `--token-env NAME` (never on the command line), NAME
      chosen by `token_variable`.
    """
    values = read_inputs(env)
    if not values["repo"].strip() and not values["dir"].strip():
        server, repository = env.get("GITHUB_SERVER_URL", ""), env.get("GITHUB_REPOSITORY", "")
        if server and repository:
            values["repo"] = f"{server.rstrip('/')}/{repository}.git"  # .git: every git server accepts it
    repo, server = values["repo"].strip(), env.get("GITHUB_SERVER_URL", "")
    on_this_github = bool(repo and server and _same_host(repo, server))
    if on_this_github:
        values["provider"] = values["provider"] or "github"
        values["api-url"] = values["api-url"] or env.get("GITHUB_API_URL", "")
    argv = to_argv(values)
    # GitHub App auth (the action's own inputs: GitLab has no apps, so they are no table rows' CI inputs)
    if app_id := env.get(APP_ID_INPUT, env.get(APP_ID_INPUT.replace("-", "_"), "")).strip():
        argv += ["--app-id", app_id]
    if env.get(APP_KEY_INPUT, env.get(APP_KEY_INPUT.replace("-", "_"), "")).strip():
        # the key stays in the step's environment; the CLI reads (and masks) it by name
        argv += ["--app-private-key-env", APP_KEY_INPUT if APP_KEY_INPUT in env else APP_KEY_INPUT.replace("-", "_")]
    if env.get(SIGNING_KEY_INPUT, env.get(SIGNING_KEY_INPUT.replace("-", "_"), "")).strip():
        argv += ["--signing-key-env",
                 SIGNING_KEY_INPUT if SIGNING_KEY_INPUT in env else SIGNING_KEY_INPUT.replace("-", "_")]
    if repo and (name := token_variable(env, repo=repo, provider=values["provider"],
                                        on_this_github=on_this_github)):
        argv += ["--token-env", name]
    return argv


def token_variable(env: Mapping[str, str], *, repo: str, provider: str, on_this_github: bool) -> str | None:
    """Where the token comes from: the `token` input; else the first of GH_TOKEN, GITHUB_TOKEN,
    GITLAB_TOKEN set in the step's `env:` (GITLAB_TOKEN first for a GitLab repository); else the
    workflow's `github.token` for a repository on this GitHub; else None (the CLI then says what is
    missing)."""
    on_gitlab = provider.strip() == "gitlab" or "gitlab" in (urlsplit(repo).hostname or "")
    order = ("GITLAB_TOKEN", "GH_TOKEN", "GITHUB_TOKEN") if on_gitlab else ENV_TOKENS
    for name in (TOKEN_INPUT, *order):
        if env.get(name, "").strip():
            return name
    if on_this_github and env.get(DEFAULT_TOKEN, "").strip():
        return DEFAULT_TOKEN
    return None


def _same_host(url: str, other: str) -> bool:
    return urlsplit(url).netloc.lower() == urlsplit(other).netloc.lower() != ""


def escape_data(text: str) -> str:
    """Workflow command data: `%`, CR and LF would end or corrupt the command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def error_annotation(message: str) -> str:
    """`::error file=F,line=N::message` when the message names `file:line`, else `::error::message`."""
    found = _FILE_LINE.search(message)
    if not found:
        return f"::error::{escape_data(message)}"
    file, line = escape_property(found["file"]), found["line"]
    return f"::error file={file},line={line}::{escape_data(message)}"


def outputs(report: BumpReport | None, *, dir: str = "", workspace: str = "") -> dict[str, str]:
    """The step's outputs, every one always set. `changed-files` and `commit-sha` describe what this
    step changed: empty unless `changed` is true (so empty when nothing changed, on a dry run and on
    failure). `changed-files` are relative to the workspace (see `workspace_path`)."""
    if report is None:
        return {"changed": "false", "changed-files": "", "commit-sha": "", "pr-url": "", "pr-number": "",
                "outcome": "failed"}
    changed = report.changed and not report.dry_run
    files = [workspace_path(f, dir=dir, workspace=workspace) for f in report.changed_files] if changed else []
    return {
        "changed": "true" if changed else "false",
        "changed-files": "\n".join(files),
        "commit-sha": (report.commit_sha or "") if changed else "",
        "pr-url": report.pr_url or "",
        "pr-number": str(report.pr_number) if report.pr_number is not None else "",
        "outcome": report.outcome,
    }


def workspace_path(path: str, *, dir: str, workspace: str) -> str:
    """A changed file relative to the workspace, the one root for every path output: with `dir`, the
    CLI's path (relative to `dir`) joined to `dir`; cloned repositories keep their own root, which
    is where a checkout of them at the workspace root has the file."""
    if not dir.strip():
        return path
    joined = posixpath.normpath(posixpath.join(dir.strip(), path))
    if posixpath.isabs(joined) and workspace:
        root = posixpath.normpath(workspace)
        if joined.startswith(root.rstrip("/") + "/"):
            return joined[len(root.rstrip("/")) + 1:]
    return joined


def format_outputs(values: Mapping[str, str], *, delimiter: str) -> str:
    """`$GITHUB_OUTPUT` text: every value in the heredoc form, so newlines are safe."""
    chunks = []
    for name, value in values.items():
        if delimiter in value:
            raise ValueError("output delimiter occurs in the value")  # a random delimiter never does
        chunks.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    return "".join(chunks)


def _cell(text: str) -> str:
    """Text from the repository as one line of inert Markdown: HTML escaped (no tags, no links from
    a file name), pipes escaped for tables, backticks and line breaks neutralised."""
    return html.escape(text, quote=False).replace("|", "\\|").replace("`", "&#96;").replace("\r", " ").replace("\n", " ")


def _code(text: str) -> str:
    return f"<code>{_cell(text)}</code>"


def summary_markdown(report: BumpReport | None, *, error: str | None = None) -> str:
    """The step summary: what happened in one line, then a table of the changes."""
    if report is None:
        return f"### updater bump failed\n\n{_cell(error or 'see the step log')}\n"
    head = {
        "pushed": f"Pushed commit `{(report.commit_sha or '')[:12]}` to `{report.branch}`",
        "created": f"Opened pull request [#{report.pr_number}]({report.pr_url})",
        "updated": f"Updated pull request [#{report.pr_number}]({report.pr_url})",
        "closed": f"Closed pull request [#{report.pr_number}]({report.pr_url}): already on `{report.base}`",
        "merged": f"Opened and merged pull request [#{report.pr_number}]({report.pr_url})",
        "unchanged": "Nothing to change: every reference is already current",
        "changed": "Changed files in the working tree",
    }.get(report.outcome, f"Outcome: {report.outcome}")
    if report.dry_run:
        head = "Dry run: nothing was written or pushed"
    lines = [f"### updater bump\n\n{head}\n"]
    if report.changes:
        lines += ["| File | Line | Kind | Old | New |", "| --- | ---: | --- | --- | --- |"]
        lines += [
            f"| {_code(c.path)} | {c.line} | {_cell(c.kind)} | {_code(c.old)} | {_code(c.new)} |"
            for c in report.changes
        ]
        lines.append("")
    lines += [f"> warning: {_cell(w)}" for w in report.warnings]
    return "\n".join(lines) + "\n"


def main(env: Mapping[str, str] | None = None) -> int:
    import os

    env = dict(os.environ if env is None else env)
    for value in dict.fromkeys(env.get(name, "") for name in (TOKEN_INPUT, DEFAULT_TOKEN, *ENV_TOKENS)):
        if value.strip():
            register_secret(value)
            print(f"::add-mask::{escape_data(value)}", flush=True)  # before anything else reaches the log
    # The runner masks a multi-line secret line by line only if told each line: the PEM's body lines.
    # The same for the signing key (an OpenSSH, PEM or armored OpenPGP block).
    for name in (APP_KEY_INPUT, SIGNING_KEY_INPUT):
        key = env.get(name, env.get(name.replace("-", "_"), ""))
        for line in key.replace("\\n", "\n").splitlines():
            if line.strip() and not line.startswith("-----"):
                register_secret(line.strip())
                print(f"::add-mask::{escape_data(line.strip())}", flush=True)
    places = {"dir": read_inputs(env)["dir"], "workspace": env.get("GITHUB_WORKSPACE", "") or os.getcwd()}
    try:
        args = build_argv(env)
    except UpdaterError as err:  # a bad input: no run, but the step's outputs are still all set
        print(error_annotation(mask(str(err))), flush=True)
        _write_results(env, None, error=str(err), **places)
        return int(err.exit_code)
    print("::group::updater bump", flush=True)
    print(mask("updater bump " + " ".join(_quote(a) for a in args)), flush=True)
    run = run_bump(args, env=env)
    print(relay(mask(run.stderr), resume=f"updater-{uuid.uuid4().hex}"), end="", flush=True)
    print("::endgroup::", flush=True)
    error = error_line(run.stderr)
    for warning in run.report.warnings if run.report else ():
        print(f"::warning::{escape_data(mask(warning))}", flush=True)
    if run.exit_code != ExitCode.OK:
        print(error_annotation(mask(error or f"updater bump exited with code {run.exit_code}")), flush=True)
    _write_results(env, run.report, error=error, **places)
    return run.exit_code


def relay(log: str, *, resume: str) -> str:
    """The CLI's log for the runner with workflow commands off: nothing in it (file names, YAML from
    the repository) can annotate, mask, set outputs or turn commands back on without `resume`,
    which is random per run."""
    if not log:
        return ""
    return f"::stop-commands::{resume}\n{log if log.endswith(chr(10)) else log + chr(10)}::{resume}::\n"


def _write_results(env: Mapping[str, str], report: BumpReport | None, *, error: str | None, dir: str,
                   workspace: str) -> None:
    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    values = outputs(report, dir=dir, workspace=workspace)
    _append(env.get("GITHUB_OUTPUT"), format_outputs(values, delimiter=delimiter))
    _append(env.get("GITHUB_STEP_SUMMARY"), summary_markdown(report, error=error))


def _quote(arg: str) -> str:
    return arg if re.fullmatch(r"[\w@%+=:,./-]+", arg) else "'" + arg.replace("'", "'\\''") + "'"


def _append(path: str | None, text: str) -> None:
    if path:
        with Path(path).open("a", encoding="utf-8") as file:
            file.write(mask(text))


if __name__ == "__main__":
    raise SystemExit(main())
