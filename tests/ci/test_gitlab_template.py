"""The GitLab CI/CD component: its `spec:inputs` and jobs, and the ready job's script run with GitLab's
predefined variables against the local forge's GitLab API, asserting on the dotenv report."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from urllib.parse import unquote

import pytest
from ruamel.yaml import YAML

from tests.ci.runner import ROOT, clean_env
from updater.ci.gitlab import variable_name
from updater.ci.options import OPTIONS
from updater_sandbox.state import Protection

DEPLOY = "spec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: ghcr.io/acme/api:1.0.0\n"
_INPUT = re.compile(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]")


def documents() -> tuple[dict[str, Any], dict[str, Any]]:
    header, jobs = YAML(typ="safe").load_all((ROOT / ".gitlab-ci-template.yml").read_text())
    return header, jobs


def interpolate(node: Any, values: dict[str, str]) -> Any:
    """GitLab's `$[[ inputs.NAME ]]` interpolation (after YAML parsing, in every string)."""
    if isinstance(node, dict):
        return {interpolate(k, values): interpolate(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(item, values) for item in node]
    if isinstance(node, str):
        return _INPUT.sub(lambda m: values[m[1]], node)
    return node


def input_values(given: dict[str, str]) -> dict[str, str]:
    spec = documents()[0]["spec"]["inputs"]
    missing = [name for name, s in spec.items() if "default" not in (s or {}) and name not in given]
    assert not missing, f"required inputs not given: {missing}"
    unknown = set(given) - set(spec)
    assert not unknown, f"not inputs of the component: {unknown}"
    values = {name: str(given.get(name, (s or {}).get("default", ""))) for name, s in spec.items()}
    for name, s in spec.items():  # GitLab refuses a value outside `options` when the pipeline is created
        assert "options" not in (s or {}) or values[name] in s["options"], f"{name}={values[name]!r}"
    return values


def extend(jobs: dict[str, Any], name: str) -> dict[str, Any]:
    """`extends:` as GitLab merges it: hashes deep-merged, everything else replaced."""
    job = dict(jobs[name])
    parent = job.pop("extends", None)
    if parent is None:
        return job
    return _merge(extend(jobs, parent), job)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def rule_passes(job: dict[str, Any]) -> bool:
    """The one rule form the template uses: `$A || $B` over the job's own variables (GitLab's rules
    see job-level variables; a variable is true when set and non-empty)."""
    expression = job["rules"][0]["if"]
    names = re.fullmatch(r"\$(\w+)(?: \|\| \$(\w+))*", expression)
    assert names, f"unexpected rule {expression!r}"
    return any(job["variables"].get(name, "") != "" for name in re.findall(r"\$(\w+)", expression))


def test_spec_inputs_mirror_the_bump_options() -> None:
    inputs = documents()[0]["spec"]["inputs"]
    assert set(inputs) == {o.name for o in OPTIONS} | {"updater-image", "stage", "token-variable"}
    assert "default" not in inputs["updater-image"]  # the image is the user's choice: required
    for option in OPTIONS:
        spec = inputs[option.name]
        assert spec["description"]
        if option.kind == "bool" and option.negatable:  # "" keeps the repository's setting
            assert spec["options"] == ["", "true", "false"] and spec["default"] == ""
        elif option.kind == "bool":
            assert spec["options"] == ["true", "false"] and spec["default"] == "false"
        else:
            assert spec["default"] == ""


def test_hidden_job_maps_every_input_to_its_variable_and_publishes_a_dotenv_report() -> None:
    jobs = documents()[1]
    hidden = jobs[".updater-bump"]
    for option in OPTIONS:
        assert hidden["variables"][variable_name(option.name)] == f"$[[ inputs.{option.name} ]]"
    assert hidden["variables"]["UPDATER_TOKEN_VARIABLE"] == "$[[ inputs.token-variable ]]"
    assert hidden["image"] == {"name": "$[[ inputs.updater-image ]]", "entrypoint": [""]}
    assert hidden["artifacts"]["reports"]["dotenv"] == "updater.env" and hidden["artifacts"]["when"] == "always"
    assert jobs["updater-bump"]["extends"] == ".updater-bump"


def test_ready_job_runs_only_when_images_or_target_are_given() -> None:
    jobs = documents()[1]
    for given, runs in (({}, False), ({"images": "a:1"}, True), ({"target": "api/staging"}, True)):
        job = extend(interpolate(jobs, input_values({"updater-image": "registry/updater:1", **given})), "updater-bump")
        assert rule_passes(job) is runs
        assert job["stage"] == "deploy"


def test_catalog_copy_is_the_same_file() -> None:
    assert (ROOT / "templates" / "updater.yml").read_text() == (ROOT / ".gitlab-ci-template.yml").read_text()


def run_job(job: dict[str, Any], predefined: dict[str, str], project_dir: Path) -> subprocess.CompletedProcess[str]:
    """The job's script lines in one shell, as a runner does, with `python` being this interpreter."""
    bin_dir = project_dir.parent / "bin"
    bin_dir.mkdir(exist_ok=True)
    # A wrapper that execs this interpreter, never a symlink to it: a symlinked venv python resolves to the
    # base interpreter and loses the venv's site-packages (green only where the base has our packages).
    wrapper = bin_dir / "python"
    wrapper.unlink(missing_ok=True)
    wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
    wrapper.chmod(0o755)
    env = clean_env({**predefined, **{k: str(v) for k, v in job["variables"].items()}})
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    script = "set -e\n" + "\n".join(job["script"])
    return subprocess.run(["bash", "-c", script], env=env, cwd=project_dir, capture_output=True, text=True, timeout=120)


def read_dotenv(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line)


@pytest.fixture()
def gitlab_project(forge, tmp_path: Path):
    forge.create_repo("acme/gitops", {"apps/api/staging/deploy.yaml": DEPLOY, "apps/api/prod/deploy.yaml": DEPLOY},
                      hook_style="gitlab")
    forge.protect("acme/gitops", "main", Protection(required_contexts=("ci",)))
    project_dir = tmp_path / "builds" / "acme" / "api"
    project_dir.mkdir(parents=True)
    predefined = {
        "GITLAB_CI": "true", "CI": "true", "CI_SERVER_URL": forge.url, "CI_API_V4_URL": f"{forge.url}/api/v4",
        "CI_PROJECT_URL": f"{forge.url}/acme/gitops", "CI_PIPELINE_URL": f"{forge.url}/acme/gitops/-/pipelines/77",
        "CI_COMMIT_SHA": "feed" + "0" * 36, "CI_PROJECT_DIR": str(project_dir),
    }
    return forge, project_dir, predefined


def test_job_opens_a_merge_request_and_writes_the_dotenv_report(gitlab_project) -> None:
    forge, project_dir, predefined = gitlab_project
    values = input_values({
        "updater-image": "registry.example.test/acme/updater:0.1.0", "images": "ghcr.io/acme/api:1.5.0",
        "paths": "apps/api/staging/**", "labels": "deploy,staging", "auto-merge": "true",
        "title": "Deploy {summary}", "token-variable": "BOT_TOKEN",
    })
    job = extend(interpolate(documents()[1], values), "updater-bump")
    assert rule_passes(job)
    done = run_job(job, {**predefined, "BOT_TOKEN": forge.token}, project_dir)
    assert done.returncode == 0, done.stderr

    report = read_dotenv(project_dir / "updater.env")
    pr = forge.pull("acme/gitops", 1)
    head = forge.repo("acme/gitops").bare.rev_parse(pr.head)
    assert report == {
        "UPDATER_OUTCOME": "created", "UPDATER_CHANGED": "true",
        "UPDATER_CHANGED_FILES": "apps/api/staging/deploy.yaml", "UPDATER_COMMIT_SHA": head,
        "UPDATER_PR_URL": f"{forge.url}/acme/gitops/-/merge_requests/1", "UPDATER_PR_NUMBER": "1",
    }
    assert pr.title == "Deploy api 1.5.0" and set(pr.labels) == {"deploy", "staging"}
    assert pr.auto_merge is not None and not pr.merged  # waits for the pipeline
    assert f"{forge.url}/acme/gitops/-/pipelines/77" in (pr.body or "")  # CI_PIPELINE_URL
    assert f"{forge.url}/acme/gitops/-/commit/{predefined['CI_COMMIT_SHA']}" in (pr.body or "")  # CI_COMMIT_SHA
    assert "section_start:" in done.stderr and "section_end:" in done.stderr  # a collapsible log section
    for text in (done.stdout, done.stderr, (project_dir / "updater.env").read_text()):
        assert forge.token not in text
    forge.set_status("acme/gitops", head, "success", context="ci")
    assert forge.pull("acme/gitops", 1).merged


def test_failed_job_still_writes_the_report(gitlab_project) -> None:
    forge, project_dir, predefined = gitlab_project
    values = input_values({"updater-image": "u:1", "images": "ghcr.io/acme/api:1.5.0"})
    job = extend(interpolate(documents()[1], values), "updater-bump")
    done = run_job(job, predefined, project_dir)  # GITLAB_TOKEN not set
    assert done.returncode == 6
    errors = [line for line in done.stderr.splitlines() if line.startswith("updater: error:")]
    assert len(errors) == 1 and "GITLAB_TOKEN" in errors[0]
    assert read_dotenv(project_dir / "updater.env")["UPDATER_OUTCOME"] == "failed"
    assert forge.repo("acme/gitops").pulls == {}


def test_a_bad_variable_still_writes_the_report(gitlab_project) -> None:
    forge, project_dir, predefined = gitlab_project
    values = input_values({"updater-image": "u:1", "images": "ghcr.io/acme/api:1.5.0"})
    job = extend(interpolate(documents()[1], values), "updater-bump")
    job["variables"]["UPDATER_AUTO_MERGE"] = "maybe"  # a job extending .updater-bump sets it wrong
    done = run_job(job, predefined, project_dir)
    assert done.returncode == 2 and "input 'auto-merge' must be true or false" in done.stderr
    assert read_dotenv(project_dir / "updater.env")["UPDATER_OUTCOME"] == "failed"



def test_an_input_with_variables_and_quotes_cannot_break_the_rule() -> None:
    """The README's images input holds variables; the old rule pasted inputs into a string literal."""
    jobs = documents()[1]
    values = input_values({"updater-image": "u:1", "images": '$CI_REGISTRY_IMAGE/api:$CI_COMMIT_SHORT_SHA"'})
    job = extend(interpolate(jobs, values), "updater-bump")
    assert "inputs." not in job["rules"][0]["if"] and '"' not in job["rules"][0]["if"]
    assert rule_passes(job)


HOSTILE = "apps/api/x y\n\x1b[0Ksection_end:1:updater_bump\r\x1b[0K\nupdater: error: forged\n.yaml"


def test_file_names_cannot_break_the_dotenv_report_or_forge_log_sections(forge, tmp_path: Path) -> None:
    """Issue 11 class 7: a file name with newlines ended the job in a traceback and no dotenv report."""
    forge.create_repo("acme/gitops", {HOSTILE: DEPLOY,
                                      HOSTILE.replace(".yaml", "-t.yaml"):  # a Helm template: skipped, with a warning naming it
                                      "{{- if .Values.x }}\nimage: ghcr.io/acme/api:{{ .Values.t }}\n{{- end }}\n"},
                      hook_style="gitlab")
    project_dir = tmp_path / "builds" / "acme" / "api"
    project_dir.mkdir(parents=True)
    predefined = {"GITLAB_CI": "true", "CI_SERVER_URL": forge.url, "CI_API_V4_URL": f"{forge.url}/api/v4",
                  "CI_PROJECT_URL": f"{forge.url}/acme/gitops", "CI_PROJECT_DIR": str(project_dir),
                  "GITLAB_TOKEN": forge.token}
    values = input_values({"updater-image": "u:1", "images": "ghcr.io/acme/api:1.5.0", "mode": "push",
                           "message": "bump {summary}"})
    done = run_job(extend(interpolate(documents()[1], values), "updater-bump"), predefined, project_dir)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    report = read_dotenv(project_dir / "updater.env")
    assert report["UPDATER_OUTCOME"] == "pushed" and report["UPDATER_CHANGED"] == "true"
    encoded = report["UPDATER_CHANGED_FILES"]
    assert " " not in encoded and unquote(encoded) == HOSTILE  # one token, decodable
    # the only section markers in the log are the job's own two; the name's ESC/CR are shown as text
    assert done.stderr.count("\x1b[0Ksection_end:") == 1 and done.stderr.count("\x1b[0Ksection_start:") == 1
    assert "\\x1b[0Ksection_end:1:updater_bump\\x0d\\x1b[0K" in done.stderr  # the warning names the file
    assert "updater: warning: " in done.stderr.split("section_end:", 1)[1]
    assert forge.token not in done.stderr + done.stdout


def test_warnings_are_repeated_after_the_log_section(gitlab_project) -> None:
    forge, project_dir, predefined = gitlab_project
    values = input_values({"updater-image": "u:1", "images": "ghcr.io/acme/api:1.5.0", "message": "ci: {summary}"})
    done = run_job(extend(interpolate(documents()[1], values), "updater-bump"),
                   {**predefined, "GITLAB_TOKEN": forge.token}, project_dir)
    assert done.returncode == 0, done.stderr
    after_section = done.stderr.split("section_end:", 1)[1]
    assert "updater: warning: --message is for push mode and is not used with --mode pr" in after_section
