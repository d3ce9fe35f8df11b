"""The action authenticated as a GitHub App (`app-id` + `app-private-key` inputs) against the local
forge: the PR is opened with installation tokens only, and no line of the key reaches the log."""

from __future__ import annotations

from pathlib import Path

from tests.ci.runner import run_action
from tests.ci.test_action import FILES, context, logged_command
from tests.app_support import APP_ID, PRIVATE, PUBLIC
from updater_sandbox import github_apps


def test_app_inputs_open_the_pull_request_with_installation_tokens(forge, tmp_path: Path) -> None:
    forge.create_repo("acme/gitops", FILES)
    forge.store.logins.pop(forge.token)  # the workflow's own token cannot write to the manifest repository
    github_apps.install(forge.store, github_apps.register_app(forge.store, APP_ID, PUBLIC), ["acme/gitops"])
    run = run_action({"images": "ghcr.io/acme/api:1.2.0", "repo": forge.repo_url("acme/gitops"),
                      "app-id": str(APP_ID), "app-private-key": PRIVATE}, context(forge), workspace=tmp_path,
                     github_token="ghs_workflow_token_without_access")
    assert run.code == 0, run.stdout + run.stderr
    assert run.outputs["outcome"] == "created" and run.outputs["pr-number"] == "1"
    assert "--app-id 4242" in logged_command(run.stdout) and "--app-private-key-env INPUT_APP-PRIVATE-KEY" in run.stdout
    body = [line for line in PRIVATE.splitlines() if not line.startswith("-----")]
    assert all(f"::add-mask::{line}" in run.stdout for line in body)
    for text in (run.stderr, run.outputs_text, run.summary, logged_command(run.stdout)):
        assert not any(line in text for line in body)
    assert github_apps.apps_of(forge.store).minted
