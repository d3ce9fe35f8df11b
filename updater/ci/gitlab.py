"""The GitLab CI job's entrypoint: `UPDATER_*` variables -> `updater bump` -> a dotenv report.

The component template (`.gitlab-ci-template.yml`) turns its `spec:inputs` into `UPDATER_<NAME>`
job variables (hyphens as underscores) and runs `python -m updater.ci.gitlab`. Defaults come from
the pipeline: the repository is `CI_PROJECT_URL` unless `UPDATER_REPO` or `UPDATER_DIR` is set, and
when it is on this GitLab, `--provider gitlab --api-url $CI_API_V4_URL` are added. The token is read
by the CLI from the variable named by `UPDATER_TOKEN_VARIABLE` (default `GITLAB_TOKEN`), never put
on a command line.

The dotenv report (`artifacts: reports: dotenv:`) gives later jobs UPDATER_PR_URL, UPDATER_PR_NUMBER,
UPDATER_COMMIT_SHA, UPDATER_CHANGED, UPDATER_CHANGED_FILES and UPDATER_OUTCOME.

Text from the manifest repository (file names in the CLI's log and in UPDATER_CHANGED_FILES) is
escaped for both places: the report's values are single-line (`%`, space, CR and LF inside a path
are percent-encoded), and control characters in the relayed log are shown, not executed (so a file
name cannot open or close the job log's sections, move the cursor or hide lines). The report's
warnings are repeated as `updater: warning:` lines at the end of the log.

Everything except `main` is pure.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from updater.ci.options import OPTIONS, to_argv
from updater.ci.report import BumpReport, error_line, run_bump
from updater.secrets import mask, register_secret

DEFAULT_TOKEN_VARIABLE = "GITLAB_TOKEN"
DEFAULT_REPORT = "updater.env"
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def variable_name(option_name: str) -> str:
    return "UPDATER_" + option_name.upper().replace("-", "_")


def token_variable(env: Mapping[str, str]) -> str:
    name = env.get("UPDATER_TOKEN_VARIABLE", "").strip() or DEFAULT_TOKEN_VARIABLE
    if not _VARIABLE_NAME.fullmatch(name):
        from updater.errors import BadInput

        raise BadInput(f"UPDATER_TOKEN_VARIABLE must name a CI/CD variable, not {name!r}")
    return name


def build_argv(env: Mapping[str, str]) -> list[str]:
    """The `updater bump` arguments for this job, with defaults from the pipeline's variables."""
    values = {option.name: env.get(variable_name(option.name), "") for option in OPTIONS}
    if not values["repo"].strip() and not values["dir"].strip():
        project = env.get("CI_PROJECT_URL", "").rstrip("/")
        values["repo"] = f"{project}.git" if project else ""  # .git: every git server accepts it
    repo, server = values["repo"].strip(), env.get("CI_SERVER_URL", "")
    if repo and server and urlsplit(repo).netloc.lower() == urlsplit(server).netloc.lower() != "":
        values["provider"] = values["provider"] or "gitlab"
        values["api-url"] = values["api-url"] or env.get("CI_API_V4_URL", "") or f"{server.rstrip('/')}/api/v4"
    argv = to_argv(values)
    if repo:
        argv += ["--token-env", token_variable(env)]
    return argv


def dotenv(report: BumpReport | None) -> dict[str, str]:
    """The dotenv report's variables; every one is always set (empty when it does not apply).
    UPDATER_CHANGED_FILES and UPDATER_COMMIT_SHA are empty unless UPDATER_CHANGED is true."""
    if report is None:
        return {"UPDATER_OUTCOME": "failed", "UPDATER_CHANGED": "false", "UPDATER_CHANGED_FILES": "",
                "UPDATER_COMMIT_SHA": "", "UPDATER_PR_URL": "", "UPDATER_PR_NUMBER": ""}
    changed = report.changed and not report.dry_run
    return {
        "UPDATER_OUTCOME": report.outcome,
        "UPDATER_CHANGED": "true" if changed else "false",
        # dotenv values are single-line: files joined with spaces, each one's own spaces encoded
        "UPDATER_CHANGED_FILES": " ".join(encode_path(f) for f in report.changed_files) if changed else "",
        "UPDATER_COMMIT_SHA": (report.commit_sha or "") if changed else "",
        "UPDATER_PR_URL": one_line(report.pr_url or ""),
        "UPDATER_PR_NUMBER": str(report.pr_number) if report.pr_number is not None else "",
    }


def encode_path(path: str) -> str:
    """A path as one space-free token of UPDATER_CHANGED_FILES (decode with any URL-unquote)."""
    return path.replace("%", "%25").replace(" ", "%20").replace("\r", "%0D").replace("\n", "%0A")


def one_line(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def log_text(text: str) -> str:
    """Text for the job log with control characters (ESC, CR, ...) shown as `\\xNN`: GitLab's log
    interprets ANSI sequences and `section_start`/`section_end` markers, which a file name must not
    be able to forge. Line feeds and tabs stay."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", text)


def section(name: str, *, header: str | None = None, now: int) -> str:
    """A collapsible section marker of GitLab's job log: start when `header` is given, else end."""
    if header is None:
        return f"\x1b[0Ksection_end:{now}:{name}\r\x1b[0K"
    return f"\x1b[0Ksection_start:{now}:{name}[collapsed=false]\r\x1b[0K{header}"


def format_dotenv(values: Mapping[str, str]) -> str:
    """GitLab's dotenv report format: `KEY=value` lines, no quoting, no newlines in values."""
    lines = []
    for key, value in values.items():
        if "\n" in value or "\r" in value:
            raise ValueError(f"dotenv value for {key} has a newline")
        lines.append(f"{key}={value}")
    return "\n".join(lines) + "\n"


def main(env: Mapping[str, str] | None = None) -> int:
    import os

    from updater.errors import UpdaterError

    env = dict(os.environ if env is None else env)
    report_path = Path(env.get("UPDATER_DOTENV", "").strip() or DEFAULT_REPORT)
    try:
        register_secret(env.get(token_variable(env)))
        args = build_argv(env)
    except UpdaterError as err:  # a bad variable: no run, but later jobs still get every variable
        print(f"updater: error: {mask(str(err))}", file=sys.stderr)
        report_path.write_text(format_dotenv(dotenv(None)), encoding="utf-8")
        return int(err.exit_code)
    print(section("updater_bump", header="updater bump", now=int(time.time())), file=sys.stderr)
    print(mask("updater bump " + " ".join(args)), file=sys.stderr, flush=True)
    run = run_bump(args, env=env)
    sys.stderr.write(log_text(mask(run.stderr)))
    print(section("updater_bump", now=int(time.time())), file=sys.stderr, flush=True)
    for warning in run.report.warnings if run.report else ():  # outside the collapsible section
        print(f"updater: warning: {log_text(mask(warning))}", file=sys.stderr)
    if run.exit_code and not error_line(run.stderr):
        print(f"updater: error: updater bump exited with code {run.exit_code}", file=sys.stderr)
    report_path.write_text(mask(format_dotenv(dotenv(run.report))), encoding="utf-8")
    return run.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
