"""action.yml run as the GitHub runner runs it, against the local forge: every input reaches the
CLI, every output is written, the summary has the table, and the token appears nowhere but in the
`::add-mask::` command the runner consumes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.ci.runner import action, run_action, workflow_commands
from updater.ci.options import OPTIONS
from updater_sandbox.state import Protection

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.0.0   # bumped by CI
"""
FILES = {
    "apps/api/staging/deploy.yaml": DEPLOY,
    "apps/api/staging/templates/job.yaml":  # a Helm template: not YAML, skipped with a warning
        "{{- if .Values.migrate }}\nimage: ghcr.io/acme/api:{{ .Values.tag }}\n{{- end }}\n",
    "apps/api/production/deploy.yaml": DEPLOY,
}
TEAM_CONFIG = """\
apps:
  api:
    image: ghcr.io/acme/api
    environments:
      staging:
        paths: ["apps/api/production/**"]   # overridden by the paths input (flags win)
        labels: [from-config]               # overridden by the labels input
        body: "Config body for {environment}"
"""
SHA = "c0ffee" + "0" * 34


def context(forge) -> dict[str, str]:
    return {
        "GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": forge.url, "GITHUB_API_URL": forge.github_api_url,
        "GITHUB_REPOSITORY": "acme/gitops", "GITHUB_SHA": SHA, "GITHUB_RUN_ID": "4242",
    }


def logged_command(stdout: str) -> str:
    group = stdout.split("::group::updater bump\n", 1)[1].split("::endgroup::", 1)[0]
    return group.splitlines()[0]


def assert_token_only_masked(run, token: str) -> None:
    lines = [line for line in run.stdout.splitlines() if token in line]
    assert lines == [f"::add-mask::{token}"]
    for text in (run.stderr, run.outputs_text, run.summary):
        assert token not in text


@pytest.fixture()
def gitops(forge):
    forge.create_repo("acme/gitops", FILES)
    forge.settings("acme/gitops").allow_auto_merge = True
    forge.protect("acme/gitops", "main", Protection(required_contexts=("ci",)))  # auto-merge waits for CI
    return forge


def test_every_action_input_is_an_option_and_every_option_an_input() -> None:
    inputs = set(action()["inputs"])
    assert inputs - {"token", "app-id", "app-private-key", "signing-key"} == {option.name for option in OPTIONS}  # secrets: never flags
    assert set(action()["outputs"]) == {"changed", "changed-files", "commit-sha", "pr-url", "pr-number", "outcome"}


def test_pull_request_run_uses_every_input_and_writes_every_output(gitops, tmp_path: Path) -> None:
    forge = gitops
    (tmp_path / "team.yml").write_text(TEAM_CONFIG)
    inputs = {
        "images": "ghcr.io/acme/api:1.2.0",
        "target": "api/staging", "config": "team.yml",
        "repo": forge.repo_url("acme/gitops"), "branch": "main", "paths": "apps/api/staging/**",
        "mode": "pr", "token": forge.token, "provider": "github", "api-url": forge.github_api_url,
        "labels": "deploy, staging", "reviewers": "alice", "assignees": "bob\ncarol",
        "auto-merge": "true", "merge-method": "merge", "pr-branch": "deploy/{target}",
        "title": "Deploy {summary}", "body": "Rolling out {images}.", "message": "ci: bump {summary}",
        "author": "Release Bot <release@example.test>", "committer": "CI <ci@example.test>",
        "retries": "3", "retry-timeout": "60", "retry-wait": "0.01", "retry-wait-max": "0.1",
        "allow-downgrade": "true",
    }
    run = run_action(inputs, context(forge), workspace=tmp_path)
    assert run.code == 0, run.stdout + run.stderr

    command = logged_command(run.stdout)
    for option in OPTIONS:
        if option.name in inputs:
            assert f"{option.flag} " in command + " " or command.endswith(option.flag), option.name

    pr = forge.pull("acme/gitops", 1)
    assert pr.title == "Deploy api 1.2.0"
    assert pr.head == "deploy/api/staging" and pr.base == "main"
    assert set(pr.labels) == {"deploy", "staging"} and pr.requested_reviewers == ["alice"]
    assert pr.assignees == ["bob", "carol"]
    assert pr.auto_merge is not None and pr.auto_merge.method == "merge" and not pr.merged
    assert "Rolling out ghcr.io/acme/api:1.2.0." in (pr.body or "")
    assert f"{forge.url}/acme/gitops/actions/runs/4242" in (pr.body or "")  # the run URL from the context
    repo = forge.repo("acme/gitops").bare
    head = repo.rev_parse("deploy/api/staging")
    # (PR mode writes its own commit message, title + table + state marker; --message is push mode's.)
    assert repo.git("log", "-1", "--format=%an <%ae>|%cn", head).out.strip() == "Release Bot <release@example.test>|CI"
    assert repo.git("show", f"{head}:apps/api/production/deploy.yaml").out == DEPLOY  # paths input won

    assert run.outputs == {
        "changed": "true", "changed-files": "apps/api/staging/deploy.yaml", "commit-sha": head,
        "pr-url": f"{forge.url}/acme/gitops/pull/1", "pr-number": "1", "outcome": "created",
    }
    assert re.search(r"^::warning::.*apps/api/staging/templates/job\.yaml", run.stdout, re.M)  # skipped, said
    # --message is push mode's: said as an annotation and in the summary, not only in the collapsed log
    assert re.search(r"^::warning::--message is for push mode and is not used with --mode pr", run.stdout, re.M)
    assert "> warning: --message is for push mode" in run.summary
    assert f"Opened pull request [#1]({forge.url}/acme/gitops/pull/1)" in run.summary
    assert ("| <code>apps/api/staging/deploy.yaml</code> | 10 | container | <code>ghcr.io/acme/api:1.0.0</code> | "
            "<code>ghcr.io/acme/api:1.2.0</code> |") in run.summary
    assert_token_only_masked(run, forge.token)

    forge.set_status("acme/gitops", head, "success", context="ci")  # simulated CI goes green
    assert forge.pull("acme/gitops", 1).merged
    assert len(repo.git("log", "-1", "--format=%P", "main").out.split()) == 2  # merge-method: merge


def test_push_mode_with_a_target_from_the_repositorys_config(forge, tmp_path: Path) -> None:
    config = ("apps:\n  api:\n    environments:\n      production:\n"
              "        paths: [apps/api/production/deploy.yaml]\n        mode: push\n")
    forge.create_repo("acme/gitops", {**FILES, ".updater.yml": config})
    run = run_action({"images": "ghcr.io/acme/api:1.4.0", "token": forge.token, "target": "api/production",
                      "message": "ci: bump {summary}"}, context(forge), workspace=tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    repo = forge.repo("acme/gitops").bare
    tip = repo.rev_parse("main")
    message = repo.commit(tip).message
    assert message.startswith("ci: bump ghcr.io/acme/api to 1.4.0")
    assert f"Updater-Source-Commit: {SHA}" in message
    assert f"Updater-Pipeline: {forge.url}/acme/gitops/actions/runs/4242" in message
    assert repo.git("show", f"{tip}:apps/api/staging/deploy.yaml").out == DEPLOY  # only the target's paths
    assert run.outputs == {"changed": "true", "changed-files": "apps/api/production/deploy.yaml",
                           "commit-sha": tip, "pr-url": "", "pr-number": "", "outcome": "pushed"}
    assert f"Pushed commit `{tip[:12]}` to `main`" in run.summary
    assert_token_only_masked(run, forge.token)


def test_switch_inputs_and_defaults_from_the_workflow_context(gitops, tmp_path: Path) -> None:
    forge = gitops
    inputs = {"images": "ghcr.io/acme/api:1.3.0", "token": forge.token, "draft": "true", "dry-run": "true",
              "allow-missing": "true", "no-validate": "true"}
    run = run_action(inputs, context(forge), workspace=tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    command = logged_command(run.stdout)
    for flag in ("--draft", "--dry-run", "--allow-missing", "--no-validate"):
        assert flag in command.split()
    # repo, provider and API from GITHUB_SERVER_URL / GITHUB_REPOSITORY / GITHUB_API_URL
    assert f"--repo {forge.url}/acme/gitops.git --provider github --api-url {forge.github_api_url}" in command
    assert forge.repo("acme/gitops").pulls == {}  # dry run: nothing opened
    assert run.outputs["changed"] == "false" and run.outputs["outcome"] == "dry-run"
    # action.yml: changed-files and commit-sha describe what the step changed: nothing on a dry run
    assert run.outputs["changed-files"] == "" and run.outputs["commit-sha"] == ""
    assert "Dry run: nothing was written or pushed" in run.summary
    assert "<code>ghcr.io/acme/api:1.3.0</code>" in run.summary
    assert_token_only_masked(run, forge.token)


def test_dir_input_runs_local_mode_in_the_workspace(tmp_path: Path) -> None:
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "deploy.yaml").write_text(DEPLOY)
    run = run_action({"images": "ghcr.io/acme/api:2.0.0", "dir": "manifests"}, {"GITHUB_ACTIONS": "true"},
                     workspace=tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    assert "--dir manifests" in logged_command(run.stdout)
    assert "ghcr.io/acme/api:2.0.0   # bumped by CI" in (tmp_path / "manifests" / "deploy.yaml").read_text()
    # relative to the workspace, the one root of every path output (the CLI's are relative to dir)
    assert run.outputs["changed"] == "true" and run.outputs["changed-files"] == "manifests/deploy.yaml"
    assert run.outputs["commit-sha"] == "" and run.outputs["outcome"] == "changed"


def test_invalid_config_is_an_annotation_on_its_file_and_line(gitops, tmp_path: Path) -> None:
    forge = gitops
    (tmp_path / ".updater.yml").write_text("apps:\n  api:\n    environments:\n      staging: {mode: fast}\n")
    run = run_action({"images": "ghcr.io/acme/api:1.2.0", "token": forge.token, "target": "api/staging",
                      "config": ".updater.yml"}, context(forge), workspace=tmp_path)
    assert run.code == 2
    assert re.search(r"^::error file=\.updater\.yml,line=4::\.updater\.yml:4: apps\.api\.environments\.staging\.mode: "
                     r"'fast' is not one of", run.stdout, re.M), run.stdout
    assert run.outputs["outcome"] == "failed" and run.outputs["pr-url"] == ""
    assert run.summary.startswith("### updater bump failed")
    assert forge.repo("acme/gitops").pulls == {}
    assert_token_only_masked(run, forge.token)


def test_rejected_token_fails_with_the_auth_exit_code_and_stays_masked(gitops, tmp_path: Path) -> None:
    forge = gitops
    wrong = "wrong_token_0123456789abcdef"
    run = run_action({"images": "ghcr.io/acme/api:1.2.0", "token": wrong}, context(forge), workspace=tmp_path)
    assert run.code == 6, run.stdout + run.stderr
    assert "::error" in run.stdout and run.outputs["outcome"] == "failed"
    assert_token_only_masked(run, wrong)


def test_a_bad_input_value_still_sets_every_output(tmp_path: Path) -> None:
    run = run_action({"images": "a:1", "dir": ".", "draft": "yes"}, {"GITHUB_ACTIONS": "true"}, workspace=tmp_path)
    assert run.code == 2
    assert "::error::input 'draft' must be true or false, not 'yes'" in run.stdout
    assert run.outputs["outcome"] == "failed" and run.outputs["changed"] == "false"
    assert "input 'draft' must be true or false" in run.summary



def test_a_pull_request_merged_during_the_step_is_outcome_merged(forge, tmp_path: Path) -> None:
    forge.create_repo("acme/gitops", FILES)
    forge.settings("acme/gitops").allow_auto_merge = True  # no required checks: nothing to wait for
    run = run_action({"images": "ghcr.io/acme/api:1.2.0", "token": forge.token, "auto-merge": "true"},
                     context(forge), workspace=tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    pr = forge.pull("acme/gitops", 1)
    assert pr.merged
    assert run.outputs["outcome"] == "merged" and run.outputs["changed"] == "true"
    assert run.outputs["commit-sha"] == forge.repo("acme/gitops").bare.rev_parse(pr.head)
    assert run.outputs["pr-number"] == "1"
    assert "merged pull request [#1]" in run.summary


def test_nothing_changed_and_dry_run_leave_commit_sha_and_changed_files_empty(gitops, tmp_path: Path) -> None:
    forge = gitops
    first = run_action({"images": "ghcr.io/acme/api:1.2.0", "token": forge.token}, context(forge), workspace=tmp_path)
    assert first.code == 0 and first.outputs["outcome"] == "created" and first.outputs["commit-sha"]
    again = run_action({"images": "ghcr.io/acme/api:1.2.0", "token": forge.token}, context(forge), workspace=tmp_path)
    assert again.code == 0, again.stdout + again.stderr
    assert again.outputs == {"changed": "false", "changed-files": "", "commit-sha": "",
                             "pr-url": first.outputs["pr-url"], "pr-number": "1", "outcome": "unchanged"}
    dry = run_action({"images": "ghcr.io/acme/api:1.3.0", "token": forge.token, "dry-run": "true"},
                     context(forge), workspace=tmp_path)
    assert dry.code == 0, dry.stdout + dry.stderr
    assert dry.outputs["outcome"] == "dry-run" and dry.outputs["commit-sha"] == ""  # not the old PR head
    assert dry.outputs["changed-files"] == "" and dry.outputs["changed"] == "false"


def test_a_token_in_the_steps_env_is_used_when_the_token_input_is_empty(forge, tmp_path: Path) -> None:
    """`token` is empty by default; github.token (from runs.env) is the last resort, so a GITLAB_TOKEN
    in the step's env reaches a GitLab repository."""
    forge.create_repo("acme/gitops", FILES, hook_style="gitlab")
    on_github = {"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com",
                 "GITHUB_API_URL": "https://api.github.com", "GITHUB_REPOSITORY": "acme/api", "GITHUB_SHA": SHA}
    inputs = {"images": "ghcr.io/acme/api:1.2.0", "repo": f"{forge.url}/acme/gitops", "provider": "gitlab",
              "api-url": forge.gitlab_api_url, "mode": "push"}
    run = run_action(inputs, on_github, workspace=tmp_path, step_env={"GITLAB_TOKEN": forge.token},
                     github_token="ghs_workflow_token_not_for_gitlab")
    assert run.code == 0, run.stdout + run.stderr
    assert "--token-env GITLAB_TOKEN" in logged_command(run.stdout)
    assert run.outputs["outcome"] == "pushed"
    assert_token_only_masked(run, forge.token)


def test_the_token_input_wins_over_the_steps_env_and_github_token(gitops, tmp_path: Path) -> None:
    forge = gitops
    run = run_action({"images": "ghcr.io/acme/api:1.2.0", "token": forge.token}, context(forge), workspace=tmp_path,
                     step_env={"GITHUB_TOKEN": "wrong_env_token_0123456789"}, github_token="ghs_wrong_workflow_token")
    assert run.code == 0, run.stdout + run.stderr
    assert "--token-env INPUT_TOKEN" in logged_command(run.stdout)
    for wrong in ("wrong_env_token_0123456789", "ghs_wrong_workflow_token"):  # masked too, all the same
        assert [line for line in run.stdout.splitlines() if wrong in line] == [f"::add-mask::{wrong}"]


def test_github_token_is_the_default_for_a_repository_on_this_github(gitops, tmp_path: Path) -> None:
    forge = gitops
    run = run_action({"images": "ghcr.io/acme/api:1.2.0"}, context(forge), workspace=tmp_path,
                     github_token=forge.token)
    assert run.code == 0, run.stdout + run.stderr
    assert "--token-env UPDATER_GITHUB_TOKEN" in logged_command(run.stdout)
    assert run.outputs["outcome"] == "created"
    assert_token_only_masked(run, forge.token)


HOSTILE = "apps/api/x\n::error::pwned\n::stop-commands::evil\n::add-mask::hidden\n.yaml"


def test_file_names_from_the_repository_cannot_issue_workflow_commands(forge, tmp_path: Path) -> None:
    """Issue 11 class 7: a file name with newlines printed raw `::error` / `::stop-commands::` lines."""
    forge.create_repo("acme/gitops", {
        HOSTILE: DEPLOY,
        HOSTILE.replace(".yaml", "-t.yaml"): "{{- if .Values.x }}\nimage: ghcr.io/acme/api:{{ .Values.t }}\n{{- end }}\n",
    })
    run = run_action({"images": "ghcr.io/acme/api:1.2.0", "token": forge.token, "mode": "push"}, context(forge),
                     workspace=tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    assert "::error::pwned" in run.stdout  # the name did reach the log...
    commands = workflow_commands(run.stdout)
    assert ("error", "pwned") not in commands and ("add-mask", "hidden") not in commands  # ...as text only
    stops = [data for name, data in commands if name == "stop-commands"]
    assert len(stops) == 1 and stops[0] != "evil" and run.stdout.count(f"::{stops[0]}::") == 1
    warnings = [data for name, data in commands if name == "warning"]
    assert warnings and all("\n" not in w for w in warnings) and any("%0A::error::pwned%0A" in w for w in warnings)
    assert run.outputs["outcome"] == "pushed" and run.outputs["changed-files"] == HOSTILE  # heredoc: safe


def _snapshot(*roots: Path) -> dict[Path, tuple[int, int]]:
    return {p: (p.stat().st_mtime_ns, p.stat().st_size) for root in roots for p in root.rglob("*") if p.is_file()}


def test_the_entrypoint_writes_only_the_runner_files_the_workspace_and_its_temp_dir(forge, tmp_path: Path) -> None:
    """What a Docker action's user must be able to write (why the image keeps the default user, root:
    the runner creates these as its own user): $GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY and, with `dir`,
    the workspace. HOME is not written; a clone lives in TMPDIR and is removed."""
    forge.create_repo("acme/gitops", FILES)
    workspace, home, tmp = tmp_path / "workspace", tmp_path / "home", tmp_path / "tmp"
    for place in (workspace, home, tmp):
        place.mkdir()
    (workspace / "manifests").mkdir()
    (workspace / "manifests" / "deploy.yaml").write_text(DEPLOY)
    (home / ".gitconfig").write_text("[user]\n\tname = someone\n")
    before = _snapshot(workspace, home, tmp)
    run = run_action({"images": "ghcr.io/acme/api:2.0.0", "dir": "manifests"}, {"GITHUB_ACTIONS": "true"},
                     workspace=workspace, step_env={"HOME": str(home), "TMPDIR": str(tmp)})
    assert run.code == 0, run.stdout + run.stderr
    after = _snapshot(workspace, home, tmp)
    changed = {p.relative_to(tmp_path).as_posix() for p in after if before.get(p) != after[p]}
    assert changed == {"workspace/github_output", "workspace/step_summary", "workspace/manifests/deploy.yaml"}

    before = _snapshot(workspace, home, tmp)
    run = run_action({"images": "ghcr.io/acme/api:2.0.0", "token": forge.token, "mode": "push"}, context(forge),
                     workspace=workspace, step_env={"HOME": str(home), "TMPDIR": str(tmp)})
    assert run.code == 0 and run.outputs["outcome"] == "pushed", run.stdout + run.stderr
    after = _snapshot(workspace, home, tmp)
    changed = {p.relative_to(tmp_path).as_posix() for p in after if before.get(p) != after[p]}
    assert changed == {"workspace/github_output", "workspace/step_summary"}
    assert not any(tmp.iterdir())  # the clone is gone
