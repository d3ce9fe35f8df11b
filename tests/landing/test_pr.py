"""Pull-request mode end to end against the local forge, for GitHub and GitLab alike: one PR per
target, updates instead of duplicates, newest version wins, body/marker/labels, dry run, repair
after a crash between push and PR, auth failures. Scenario tests live in test_pr_scenarios.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.landing.pr_support import (
    PROVIDERS,
    REPO,
    app_files,
    argv,
    blob,
    env_for,
    open_pulls,
    settings,
)
from updater.errors import AuthFailed, BadInput, PolicyRefused, RemoteError
from updater.landing.pr import bump_pr
from updater.landing.pr_body import parse_marker
from updater_sandbox import faults

pytestmark = pytest.mark.parametrize("provider", PROVIDERS)


@pytest.fixture()
def repo(forge):
    forge.create_repo(REPO, app_files(3))
    return forge


def test_bump_opens_one_pr_with_table_marker_and_labels(repo, provider):
    result = bump_pr(settings(repo, provider, "--image", "ghcr.io/acme/app01:1.1.0", "--label", "deploy",
                              env={"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/app01",
                                   "GITHUB_SHA": "c0ffee", "GITHUB_RUN_ID": "77"}))
    assert (result.outcome, result.branch, result.base) == ("created", "updater/main/app01", "main")
    [pull] = open_pulls(repo)
    assert (pull.number, pull.head, pull.title, pull.labels) == (result.pr_number, "updater/main/app01",
                                                                "Bump app01 1.1.0", ["deploy"])
    assert "| `apps/app01/deploy.yaml` | 10 | container | `ghcr.io/acme/app01:1.0.0` | `ghcr.io/acme/app01:1.1.0` |" in pull.body
    assert "[source commit](https://github.com/acme/app01/commit/c0ffee)" in pull.body
    state = parse_marker(pull.body)
    assert state and state.refs == ("ghcr.io/acme/app01:1.1.0",)
    assert state.base_sha == repo.repo(REPO).bare.rev_parse("main")
    # the branch holds exactly the byte-minimal edit, on top of main
    assert blob(repo, result.branch, "apps/app01/deploy.yaml") == app_files(3)["apps/app01/deploy.yaml"].replace(
        "app01:1.0.0", "app01:1.1.0")
    assert repo.repo(REPO).bare.rev_parse(f"{result.branch}^") == state.base_sha
    assert blob(repo, "main", "apps/app01/deploy.yaml") == app_files(3)["apps/app01/deploy.yaml"]


def test_newer_bump_updates_the_same_pr_and_older_is_refused(repo, provider):
    first = bump_pr(settings(repo, provider, "--image", "ghcr.io/acme/app01:1.1.0"))
    second = bump_pr(settings(repo, provider, "--image", "ghcr.io/acme/app01:1.2.0"))
    assert (second.outcome, second.pr_number) == ("updated", first.pr_number)
    assert second.commit_sha != first.commit_sha
    with pytest.raises(PolicyRefused, match="newer version is already proposed.*app01:1.2.0"):
        bump_pr(settings(repo, provider, "--image", "ghcr.io/acme/app01:1.1.5"))
    [pull] = open_pulls(repo)
    assert parse_marker(pull.body).refs == ("ghcr.io/acme/app01:1.2.0",)
    assert "app01:1.2.0" in blob(repo, "updater/main/app01", "apps/app01/deploy.yaml")
    assert [c.body for c in pull.comments] == [
        "Superseded by a newer bump: `ghcr.io/acme/app01:1.1.0` → `ghcr.io/acme/app01:1.2.0`. "
        "The branch was regenerated."]


def test_same_bump_again_changes_nothing(repo, provider):
    first = bump_pr(settings(repo, provider, "--image", "ghcr.io/acme/app01:1.1.0"))
    before = len(repo.requests)
    again = bump_pr(settings(repo, provider, "--image", "ghcr.io/acme/app01:1.1.0"))
    assert (again.outcome, again.commit_sha, again.pr_number) == ("unchanged", first.commit_sha, first.pr_number)
    writes = [r for r in repo.requests[before:] if r.service != "git" and r.method != "GET"]
    assert writes == []


def test_pr_carries_the_union_of_bumps_for_one_target(repo, provider):
    target = ["--target", "platform", "--path", "apps/**"]
    bump_pr(settings(repo, provider, "--image", "ghcr.io/acme/app00:2.0.0", *target))
    result = bump_pr(settings(repo, provider, "--image", "ghcr.io/acme/app02:3.0.0", *target))
    assert (result.outcome, result.branch) == ("updated", "updater/main/platform")
    [pull] = open_pulls(repo)
    assert parse_marker(pull.body).refs == ("ghcr.io/acme/app00:2.0.0", "ghcr.io/acme/app02:3.0.0")
    assert "app00:2.0.0" in blob(repo, result.branch, "apps/app00/deploy.yaml")
    assert "app02:3.0.0" in blob(repo, result.branch, "apps/app02/deploy.yaml")
    assert pull.title == "Bump app00 2.0.0, app02 3.0.0 in platform"


def test_different_targets_get_different_prs(repo, provider):
    a = bump_pr(settings(repo, provider, "--image", "ghcr.io/acme/app00:2.0.0"))
    b = bump_pr(settings(repo, provider, "--image", "ghcr.io/acme/app01:2.0.0", "--pr-branch", "deps/{app}"))
    assert (a.branch, b.branch) == ("updater/main/app00", "deps/app01")
    assert len(open_pulls(repo)) == 2 and a.pr_number != b.pr_number


def test_dry_run_pushes_and_opens_nothing(repo, provider):
    result = bump_pr(settings(repo, provider, "--image", "ghcr.io/acme/app01:1.1.0", "--dry-run"))
    assert result.outcome == "created" and result.pr_number is None
    assert open_pulls(repo) == [] and repo.repo(REPO).bare.rev_parse("updater/main/app01") is None


def test_crash_between_push_and_pr_is_repaired_by_the_next_run(repo, provider):
    path = "/pulls" if provider == "github" else "/merge_requests"
    repo.inject(faults.http_status(502, method="POST", path_contains=path, times=100))
    with pytest.raises(RemoteError, match="still failing"):
        bump_pr(settings(repo, provider, "--image", "ghcr.io/acme/app01:1.1.0", "--retries", "2",
                         "--retry-timeout", "5"))
    pushed = repo.repo(REPO).bare.rev_parse("updater/main/app01")
    assert pushed and open_pulls(repo) == []
    repo.faults.clear()
    result = bump_pr(settings(repo, provider, "--image", "ghcr.io/acme/app01:1.1.0"))
    assert (result.outcome, result.commit_sha) == ("created", pushed)  # the branch was reused as it was
    assert len(open_pulls(repo)) == 1


def test_branch_not_made_by_updater_is_left_alone(repo, provider):
    bare = repo.repo(REPO).bare
    bare.git("update-ref", "refs/heads/updater/main/app01", bare.rev_parse("main"))
    with pytest.raises(PolicyRefused, match="not made by updater"):
        bump_pr(settings(repo, provider, "--image", "ghcr.io/acme/app01:1.1.0"))
    assert open_pulls(repo) == []


def test_cli_json_report_and_token_masking(repo, provider):
    env = {**os.environ, **env_for(repo, provider)}
    env.pop("GITLAB_TOKEN" if provider == "github" else "GITHUB_TOKEN", None)
    done = subprocess.run([sys.executable, "-m", "updater", "-v", *argv(repo, provider, "--image",
                           "ghcr.io/acme/app02:1.1.0", "--json", "--message", "deploy {image}")],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "--message is for push mode and is not used with --mode pr" in done.stderr  # said, not silently dropped
    report = json.loads(done.stdout)
    assert {k: report[k] for k in ("outcome", "branch", "base", "pr_number", "changed")} == {
        "outcome": "created", "branch": "updater/main/app02", "base": "main", "pr_number": 1, "changed": True}
    assert report["pr_url"].startswith(repo.url) and len(report["commit_sha"]) == 40
    assert report["changes"][0]["new"] == "ghcr.io/acme/app02:1.1.0"
    assert repo.token not in done.stdout + done.stderr


def test_rejected_token_fails_at_once_naming_the_variable(repo, provider):
    with pytest.raises(AuthFailed) as err:
        bump_pr(settings(repo, provider, "--image", "ghcr.io/acme/app01:1.1.0",
                         env={"GITHUB_TOKEN" if provider == "github" else "GITLAB_TOKEN": "wrong-token-123"}))
    assert "GITHUB_TOKEN" in str(err.value) or "GITLAB_TOKEN" in str(err.value)
    assert "wrong-token-123" not in str(err.value)
    assert open_pulls(repo) == []


def test_the_forges_own_token_variable_wins_when_both_are_set(repo, provider):
    own, other = ("GITHUB_TOKEN", "GITLAB_TOKEN") if provider == "github" else ("GITLAB_TOKEN", "GITHUB_TOKEN")
    config = settings(repo, provider, "--image", "ghcr.io/acme/app01:1.1.0", env={own: repo.token, other: "other-token-99"})
    assert config.credentials.token == repo.token and config.forge.token_env == own
    assert bump_pr(config).outcome == "created"


def test_reviewers_assignees_and_draft_are_applied(repo, provider):
    result = bump_pr(settings(repo, provider, "--image", "ghcr.io/acme/app01:1.1.0", "--draft",
                              "--reviewer", "alice", "--assignee", "bob"))
    pull = repo.pull(REPO, result.pr_number)
    assert result.outcome == "created" and pull.draft and pull.state == "open"
    assert pull.requested_reviewers == ["alice"] and pull.assignees == ["bob"]
    assert not [w for w in result.warnings if "assign" in w or "review" in w]


def test_a_refused_decoration_is_a_warning_not_a_failure(repo, provider):
    where = "/issues/1/assignees" if provider == "github" else "/users"
    repo.inject(faults.http_status(422, service=provider, path_contains=where, times=5))
    result = bump_pr(settings(repo, provider, "--image", "ghcr.io/acme/app01:1.1.0", "--assignee", "bob"))
    pull = repo.pull(REPO, result.pr_number)
    assert result.outcome == "created" and pull.state == "open" and pull.assignees == []
    assert [w for w in result.warnings if "bob" in w or "assign" in w]


def test_bad_template_fails_before_anything_is_cloned(repo, provider):
    before = len(repo.requests)
    with pytest.raises(BadInput, match=r"--title .*unknown field \{version\}"):
        settings(repo, provider, "--image", "ghcr.io/acme/app01:1.1.0", "--title", "Bump to {version}")
    assert len(repo.requests) == before


def test_rebase_cli_reports_every_updater_pr_as_json(repo, provider):
    first = bump_pr(settings(repo, provider, "--image", "ghcr.io/acme/app01:1.1.0"))
    env = {**os.environ, **env_for(repo, provider)}
    env.pop("GITLAB_TOKEN" if provider == "github" else "GITHUB_TOKEN", None)
    done = subprocess.run([sys.executable, "-m", "updater", *argv(repo, provider, "--json", command="rebase")],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    [report] = json.loads(done.stdout)["pull_requests"]
    assert {k: report[k] for k in ("outcome", "pr_number", "branch", "mode")} == {
        "outcome": "unchanged", "pr_number": first.pr_number, "branch": "updater/main/app01", "mode": "pr"}
