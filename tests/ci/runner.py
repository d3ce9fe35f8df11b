"""Run the CI entrypoints the way the platforms do: a child process with the platform's variables.

`run_action` reads `action.yml` for the command (its `runs.entrypoint` + `runs.args`), sets
`INPUT_<NAME>` variables as the GitHub runner does (upper case, hyphens kept) plus the
`GITHUB_OUTPUT` / `GITHUB_STEP_SUMMARY` files and `GITHUB_WORKSPACE`, evaluates the one expression
action.yml uses (`${{ github.token }}`, in input defaults and `runs.env`), adds the step's `env:`, and
parses the outputs file back. `workflow_commands` reads the log the way the runner does.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
_HOST_CI = ("GITHUB_", "INPUT_", "CI_", "GITLAB_", "UPDATER_", "RUNNER_")


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any CI variables of the machine running the tests."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(_HOST_CI)}
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return {**base, **extra}


def action() -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load((ROOT / "action.yml").read_text())
    return data


@dataclass(frozen=True)
class ActionRun:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    outputs_text: str
    summary: str


def parse_github_output(text: str) -> dict[str, str]:
    """`name<<DELIM` ... `DELIM` blocks (and plain `name=value` lines) into a dict."""
    values, lines, i = {}, text.splitlines(), 0
    while i < len(lines):
        heredoc = re.fullmatch(r"([\w-]+)<<(.+)", lines[i])
        if heredoc:
            end = lines.index(heredoc[2], i + 1)
            values[heredoc[1]] = "\n".join(lines[i + 1:end])
            i = end + 1
        else:
            name, _, value = lines[i].partition("=")
            values[name] = value
            i += 1
    return values


_GITHUB_TOKEN = re.compile(r"\$\{\{\s*github\.token\s*\}\}")


def _evaluate(value: object, github_token: str) -> str:
    text = str(value)
    if "${{" in text and not _GITHUB_TOKEN.fullmatch(text.strip()):
        raise AssertionError(f"action.yml uses an expression this runner does not evaluate: {text}")
    return _GITHUB_TOKEN.sub(github_token, text)


def run_action(inputs: Mapping[str, str], context: Mapping[str, str], *, workspace: Path,
               step_env: Mapping[str, str] | None = None, github_token: str = "") -> ActionRun:
    runs = action()["runs"]
    command = [sys.executable if runs["entrypoint"] == "python" else runs["entrypoint"], *runs["args"]]
    output, summary = workspace / "github_output", workspace / "step_summary"
    output.write_text(""), summary.write_text("")
    declared = action()["inputs"]
    env = {f"INPUT_{name.upper()}": _evaluate(declared[name].get("default", ""), github_token) for name in declared}
    env.update({f"INPUT_{name.upper()}": value for name, value in inputs.items()})
    env.update({name: _evaluate(value, github_token) for name, value in (runs.get("env") or {}).items()})
    env.update({"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary),
                "GITHUB_WORKSPACE": str(workspace), **context, **(step_env or {})})
    done = subprocess.run(command, env=clean_env(env), cwd=workspace, capture_output=True, text=True, timeout=300)
    text = output.read_text()
    return ActionRun(done.returncode, done.stdout, done.stderr, parse_github_output(text), text, summary.read_text())


def workflow_commands(stdout: str) -> list[tuple[str, str]]:
    """(command, data) for every line the runner would execute as a workflow command: `::name
    props::data`, except between `::stop-commands::TOKEN` and `::TOKEN::` (GitHub's documented rule)."""
    commands: list[tuple[str, str]] = []
    stopped: str | None = None
    for line in stdout.splitlines():
        if stopped is not None:
            if line == f"::{stopped}::":
                stopped = None
            continue
        found = re.match(r"::([\w-]+)(?: [^:]*)?::(.*)", line)
        if found:
            commands.append((found[1], found[2]))
            if found[1] == "stop-commands":
                stopped = found[2]
    return commands
