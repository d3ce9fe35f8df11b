"""updater against what the real GitHub and GitLab do (issue 12 §2), each behaviour switched on in
the forge (`forge.options`): GitLab's 405 to auto-merge before the MR has a pipeline, GitHub's PR
head lagging a push, secondary rate limits without Retry-After, the refusals that name a setting
(unprotected base, Actions not allowed to open PRs, a reviewer without access), and GitLab's
newer "still checking" statuses."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from tests.landing.pr_support import REPO, app_files, blob, provider_for, settings
from updater.errors import AuthFailed, ExitCode, RemoteError
from updater.forges.base import PullRequest
from updater.landing.pr import bump_pr
from updater_sandbox import faults
from updater_sandbox.state import Protection

pytestmark = pytest.mark.slow


def _wait_until(predicate, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def _options(forge, **changes):
    forge.options = replace(forge.options, **changes)


def test_gitlab_auto_merge_waits_for_the_pipeline_to_exist_then_merges(forge):
    forge.create_repo(REPO, app_files(2))
    forge.settings(REPO).only_allow_merge_if_pipeline_succeeds = True
    _options(forge, auto_merge_needs_pipeline=True, pipeline_after=1.0)
    result = bump_pr(settings(forge, "gitlab", "--image", "ghcr.io/acme/app01:1.1.0", "--auto-merge"))
    assert result.warnings == ()
    assert forge.pull(REPO, result.pr_number).auto_merge is not None
    forge.set_status(REPO, result.commit_sha, "success", context="ci")
    assert _wait_until(lambda: forge.pull(REPO, result.pr_number).merged)
    assert "app01:1.1.0" in blob(forge, "main", "apps/app01/deploy.yaml")


def test_gitlab_auto_merge_refused_for_want_of_a_pipeline_is_set_by_the_next_run(forge):
    forge.create_repo(REPO, app_files(2))
    forge.settings(REPO).only_allow_merge_if_pipeline_succeeds = True
    _options(forge, auto_merge_needs_pipeline=True)  # no pipeline until the test reports one
    args = ("--image", "ghcr.io/acme/app01:1.1.0", "--auto-merge", "--retry-timeout", "1")
    started = time.monotonic()
    first = bump_pr(settings(forge, "gitlab", *args))
    assert time.monotonic() - started < 15  # bounded by --retry-timeout
    assert any("no pipeline" in w and "next updater run" in w for w in first.warnings)
    assert forge.pull(REPO, first.pr_number).auto_merge is None
    forge.set_status(REPO, first.commit_sha, "pending", context="ci")  # the pipeline now exists
    second = bump_pr(settings(forge, "gitlab", *args))  # nothing new to push
    assert (second.outcome, second.commit_sha, second.warnings) == ("unchanged", first.commit_sha, ())
    assert forge.pull(REPO, first.pr_number).auto_merge is not None
    forge.set_status(REPO, first.commit_sha, "success", context="ci")
    assert _wait_until(lambda: forge.pull(REPO, first.pr_number).merged)


def test_github_auto_merge_lands_on_the_pushed_head_although_the_pr_lags(forge):
    forge.create_repo(REPO, app_files(2))
    forge.protect(REPO, "main", Protection(required_contexts=("ci",)))
    _options(forge, head_lag=1.5)
    first = bump_pr(settings(forge, "github", "--image", "ghcr.io/acme/app01:1.1.0"))
    second = bump_pr(settings(forge, "github", "--image", "ghcr.io/acme/app01:1.2.0", "--auto-merge"))
    assert (second.outcome, second.pr_number, second.warnings) == ("updated", first.pr_number, ())
    assert forge.pull(REPO, first.pr_number).auto_merge is not None
    forge.set_status(REPO, second.commit_sha, "success", context="ci")
    assert _wait_until(lambda: forge.pull(REPO, first.pr_number).merged)
    assert "app01:1.2.0" in blob(forge, "main", "apps/app01/deploy.yaml")


def test_secondary_rate_limit_without_retry_after_waits_what_the_budget_allows(forge):
    forge.create_repo(REPO, app_files(2))
    forge.inject(faults.secondary_rate_limit(retry_after=None, service="github", method="POST"))
    started = time.monotonic()
    result = bump_pr(settings(forge, "github", "--image", "ghcr.io/acme/app01:1.1.0", "--retry-timeout", "3"))
    # GitHub wants a minute; the 3 s budget caps it (retrying at once would prolong the limit)
    assert time.monotonic() - started >= 2.5
    assert result.outcome == "created"


def test_secondary_rate_limit_that_outlasts_the_budget_says_so(forge):
    forge.create_repo(REPO, app_files(2))
    forge.inject(faults.secondary_rate_limit(retry_after=None, service="github", method="POST", times=100))
    started = time.monotonic()
    with pytest.raises(RemoteError, match=r"at least 60 s between tries.*--retry-timeout") as err:
        bump_pr(settings(forge, "github", "--image", "ghcr.io/acme/app01:1.1.0", "--retry-timeout", "2"))
    assert "secondary rate limit" in str(err.value)
    assert time.monotonic() - started < 10
    assert len([r for r in forge.log_for("github", method="POST") if r.status == 403]) <= 3  # no hammering


def test_auto_merge_on_an_unprotected_base_names_branch_protection(forge):
    forge.create_repo(REPO, app_files(2))
    _options(forge, auto_merge_needs_protection=True)
    result = bump_pr(settings(forge, "github", "--image", "ghcr.io/acme/app01:1.1.0", "--auto-merge"))
    [warning] = result.warnings
    assert "branch protection rule" in warning and "main" in warning and "stays open" in warning
    assert forge.pull(REPO, result.pr_number).state == "open"


def test_actions_not_allowed_to_open_pull_requests_names_the_setting_with_exit_6(forge):
    forge.create_repo(REPO, app_files(2))
    _options(forge, actions_may_create_pulls=False)
    with pytest.raises(AuthFailed, match="Allow GitHub Actions to create and approve pull requests") as err:
        bump_pr(settings(forge, "github", "--image", "ghcr.io/acme/app01:1.1.0"))
    assert err.value.exit_code == ExitCode.AUTH == 6
    assert forge.repo(REPO).pulls == {}


def test_reviewer_without_access_is_a_warning_naming_collaborator_access(forge):
    forge.create_repo(REPO, app_files(2))
    _options(forge, collaborators=frozenset({"alice"}))
    result = bump_pr(settings(forge, "github", "--image", "ghcr.io/acme/app01:1.1.0", "--reviewer", "mallory"))
    assert result.outcome == "created"
    [warning] = result.warnings
    assert "collaborator access" in warning and REPO in warning
    assert forge.pull(REPO, result.pr_number).state == "open"


@pytest.mark.parametrize("status", ["unchecked", "preparing", "approvals_syncing"])
def test_gitlab_still_checking_statuses_are_waited_out(forge, status):
    forge.create_repo(REPO, app_files(2))
    _options(forge, gitlab_checking_status=status)
    result = bump_pr(settings(forge, "gitlab", "--image", "ghcr.io/acme/app01:1.1.0"))
    forge.mergeability_delay = 1.0
    forge.commit(REPO, "main", {"apps/app00/deploy.yaml": "moved: base\n"}, "move the base")  # a new pair to check
    provider = provider_for(forge, "gitlab")
    pr = PullRequest(result.pr_number, "", result.branch, "main", "", "", "open")
    assert provider.peek_mergeability([provider.find_open(head=result.branch) or pr]) == {result.pr_number: "unknown"}
    assert provider.mergeability(pr) == "clean"  # waited out, not taken for "blocked"
