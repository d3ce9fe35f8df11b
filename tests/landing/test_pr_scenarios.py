"""The issue's scenarios against the local forge, for GitHub and GitLab: many pipelines at once,
merges in random order kept mergeable by `updater rebase`, auto-merge gated by simulated CI, and
injected API failures. Concurrency is threads calling the same entry points as the CLI."""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from tests.landing.pr_support import (
    PROVIDERS,
    REPO,
    app_files,
    blob,
    merge,
    open_pulls,
    provider_for,
    settings,
)
from updater.errors import PolicyRefused, RemoteError
from updater.forges.base import PullRequest
from updater.landing.pr import bump_pr, rebase_all
from updater.landing.pr_body import parse_marker
from updater_sandbox import faults
from updater_sandbox.state import Protection

pytestmark = pytest.mark.slow
both = pytest.mark.parametrize("provider", PROVIDERS)


def _as_pr(forge, number: int) -> PullRequest:
    pull = forge.pull(REPO, number)
    return PullRequest(number, "", pull.head, pull.base, pull.title, pull.body or "", "open")


@both
def test_twenty_apps_at_once_then_merged_in_random_order_with_rebase_between(forge, provider):
    forge.create_repo(REPO, app_files(20, shared=True))
    forge.mergeability_delay = 0.2  # mergeability lags pushes, as on the real services
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda i: bump_pr(settings(forge, provider, "--image", f"ghcr.io/acme/app{i:02d}:2.0.0")),
                                range(20)))
    assert sorted(r.outcome for r in results) == ["created"] * 20
    assert len({r.pr_number for r in results}) == 20 and len(open_pulls(forge)) == 20
    api = provider_for(forge, provider)
    assert {api.mergeability(_as_pr(forge, r.pr_number)) for r in results} == {"clean"}

    order = list(range(20))
    random.Random(5).shuffle(order)
    regenerated = 0
    for step, app in enumerate(order):
        number = results[app].pr_number
        assert api.mergeability(_as_pr(forge, number)) == "clean", f"PR for app{app:02d} needs a human"
        head = forge.repo(REPO).bare.rev_parse(forge.pull(REPO, number).head)
        answer = merge(forge, provider, number, head)
        assert answer.status_code == 200, answer.text
        refreshed, failures = rebase_all(settings(forge, provider, command="rebase"))
        assert failures == [] and len(refreshed) == 19 - step
        assert {r.outcome for r in refreshed} <= {"updated", "unchanged"}
        regenerated += sum(r.outcome == "updated" for r in refreshed)
    assert regenerated >= 5  # neighbours' merges made PRs conflict, and rebase resolved every one
    assert all(p.merged for p in forge.repo(REPO).pulls.values()) and len(forge.repo(REPO).pulls) == 20
    versions = blob(forge, "main", "clusters/prod/versions.yaml")
    for i in range(20):
        assert f"ghcr.io/acme/app{i:02d}:2.0.0  # keep this comment" in blob(forge, "main", f"apps/app{i:02d}/deploy.yaml")
        assert f"app{i:02d}: ghcr.io/acme/app{i:02d}:2.0.0  # updater:image" in versions


@both
def test_ten_racing_bumps_of_one_app_leave_one_pr_with_the_highest(forge, provider):
    forge.create_repo(REPO, app_files(2))
    versions = [f"1.{minor}.0" for minor in range(1, 11)]
    started = versions[:]
    random.Random(7).shuffle(started)

    def run(version: str) -> str:
        try:
            return bump_pr(settings(forge, provider, "--image", f"ghcr.io/acme/app01:{version}",
                                    "--retries", "20")).outcome
        except PolicyRefused:  # an older version finishing after a newer one: refused, as it must be
            return "refused"

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(run, started))
    assert outcomes.count("created") == 1 and set(outcomes) <= {"created", "updated", "unchanged", "refused"}
    [pull] = forge.repo(REPO).pulls.values()  # one PR ever: no duplicate opened and closed
    assert pull.state == "open"
    assert parse_marker(pull.body).refs == ("ghcr.io/acme/app01:1.10.0",)
    assert pull.title == "Bump app01 1.10.0"
    assert "app01:1.10.0" in blob(forge, pull.head, "apps/app01/deploy.yaml")


def _require_ci(forge, provider):
    if provider == "github":
        forge.protect(REPO, "main", Protection(required_contexts=("ci",)))
    else:
        forge.settings(REPO).only_allow_merge_if_pipeline_succeeds = True


def _wait_until(predicate, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@both
def test_auto_merge_waits_for_green_ci_then_merges(forge, provider):
    forge.create_repo(REPO, app_files(2))
    _require_ci(forge, provider)
    result = bump_pr(settings(forge, provider, "--image", "ghcr.io/acme/app01:1.1.0", "--auto-merge"))
    assert result.warnings == ()
    time.sleep(0.5)  # the forge's auto-merge ticker runs every 50 ms: it had every chance to merge
    assert forge.pull(REPO, result.pr_number).state == "open"
    forge.set_status(REPO, result.commit_sha, "success", context="ci")
    assert _wait_until(lambda: forge.pull(REPO, result.pr_number).merged)
    assert "app01:1.1.0" in blob(forge, "main", "apps/app01/deploy.yaml")


@both
def test_rebase_keeps_auto_merge_on_the_regenerated_head(forge, provider):
    forge.create_repo(REPO, app_files(2))
    _require_ci(forge, provider)
    first = bump_pr(settings(forge, provider, "--image", "ghcr.io/acme/app01:1.1.0", "--auto-merge"))
    bare = forge.repo(REPO).bare
    from updater_sandbox.seed import commit_files

    hotfix = app_files(2)["apps/app01/deploy.yaml"].replace("1.0.0", "1.0.1")  # conflicts with the PR
    bare.update_ref("refs/heads/main", commit_files(bare, {"apps/app01/deploy.yaml": hotfix}, message="hotfix",
                                                    parent=bare.rev_parse("main")), None)
    [result], failures = rebase_all(settings(forge, provider, command="rebase"))
    assert failures == [] and result.outcome == "updated" and result.commit_sha != first.commit_sha
    forge.set_status(REPO, result.commit_sha, "success", context="ci")
    assert _wait_until(lambda: forge.pull(REPO, first.pr_number).merged)
    assert "app01:1.1.0" in blob(forge, "main", "apps/app01/deploy.yaml")


@both
def test_auto_merge_with_red_ci_leaves_the_pr_open(forge, provider):
    forge.create_repo(REPO, app_files(2))
    _require_ci(forge, provider)
    result = bump_pr(settings(forge, provider, "--image", "ghcr.io/acme/app01:1.1.0", "--auto-merge"))
    forge.set_status(REPO, result.commit_sha, "failure" if provider == "github" else "failed", context="ci")
    time.sleep(0.5)
    pull = forge.pull(REPO, result.pr_number)
    assert (pull.state, pull.merged) == ("open", False)


@both
def test_auto_merge_with_nothing_to_wait_for_merges_at_once(forge, provider):
    forge.create_repo(REPO, app_files(2))
    result = bump_pr(settings(forge, provider, "--image", "ghcr.io/acme/app01:1.1.0", "--auto-merge",
                              "--merge-method", "merge"))
    assert result.warnings == ()
    assert _wait_until(lambda: forge.pull(REPO, result.pr_number).merged)
    assert "app01:1.1.0" in blob(forge, "main", "apps/app01/deploy.yaml")


@pytest.mark.parametrize("provider", ["github"])  # GitLab has no project switch that forbids auto-merge
def test_auto_merge_not_allowed_is_said_and_the_pr_stays_open(forge, provider):
    forge.create_repo(REPO, app_files(2))
    forge.settings(REPO).allow_auto_merge = False
    forge.protect(REPO, "main", Protection(required_contexts=("ci",)))
    result = bump_pr(settings(forge, provider, "--image", "ghcr.io/acme/app01:1.1.0", "--auto-merge"))
    assert any("auto-merge could not be enabled" in w and "stays open" in w for w in result.warnings)
    assert forge.pull(REPO, result.pr_number).state == "open"


@both
def test_api_faults_are_retried_and_leave_exactly_one_pr(forge, provider):
    forge.create_repo(REPO, app_files(2))
    service = "github" if provider == "github" else "gitlab"
    limit = faults.secondary_rate_limit if provider == "github" else faults.rate_limit
    forge.inject(faults.http_status(502, service=service, method="GET"))
    forge.inject(limit(retry_after=1, service=service, method="POST"))
    forge.inject(faults.drop(service=service, method="POST"))
    started = time.monotonic()
    first = bump_pr(settings(forge, provider, "--image", "ghcr.io/acme/app01:1.1.0"))
    assert time.monotonic() - started >= 1.0  # Retry-After was honoured
    forge.inject(faults.drop(service=service, method="PATCH" if provider == "github" else "PUT"))
    forge.inject(faults.http_status(503, service=service))
    forge.inject(faults.drop(service="git", method="POST", path_contains="git-receive-pack"))  # the branch push
    second = bump_pr(settings(forge, provider, "--image", "ghcr.io/acme/app01:1.2.0"))
    assert None in [r.status for r in forge.log_for("git")]  # a push was dropped, and retried
    assert (first.outcome, second.outcome, second.pr_number) == ("created", "updated", first.pr_number)
    [pull] = forge.repo(REPO).pulls.values()
    assert parse_marker(pull.body).refs == ("ghcr.io/acme/app01:1.2.0",)
    statuses = [r.status for r in forge.log_for(service)]
    assert None in statuses and 502 in statuses and 503 in statuses  # the faults did happen


@both
def test_lost_answer_to_create_does_not_open_a_duplicate(forge, provider):
    forge.create_repo(REPO, app_files(2))
    path = f"/{REPO}/pulls" if provider == "github" else "/merge_requests"
    forge.inject(faults.slow(4.0, method="POST", path_contains=path))  # served after our 1.5 s timeout
    config = settings(forge, provider, "--image", "ghcr.io/acme/app01:1.1.0")
    result = bump_pr(replace(config, provider=replace(config.provider, request_timeout=1.5)))
    # wait for the slow request to be served too: it created the PR or was told one exists
    assert _wait_until(lambda: len(forge.log_for(method="POST", path_contains=path)) >= 2, 15)
    assert len(forge.repo(REPO).pulls) == 1 and result.pr_number == 1


@both
def test_api_still_failing_fails_clearly_without_a_pr(forge, provider):
    forge.create_repo(REPO, app_files(2))
    service = "github" if provider == "github" else "gitlab"
    forge.inject(faults.http_status(502, service=service, times=1000))
    with pytest.raises(RemoteError, match=r"still failing after 2 attempt\(s\).*server error 502"):
        bump_pr(settings(forge, provider, "--image", "ghcr.io/acme/app01:1.1.0", "--retries", "2"))
    assert forge.repo(REPO).pulls == {}


@both
def test_rebase_regenerates_a_conflicting_pr_and_closes_one_already_on_base(forge, provider):
    forge.create_repo(REPO, app_files(3))
    conflicting = bump_pr(settings(forge, provider, "--image", "ghcr.io/acme/app01:1.1.0"))
    landed = bump_pr(settings(forge, provider, "--image", "ghcr.io/acme/app02:1.1.0"))
    # a human edits main: the app01 line changes (a real conflict) and app02 gets the same bump
    bare = forge.repo(REPO).bare
    from updater_sandbox.seed import commit_files

    files = app_files(3)
    tip = commit_files(bare, {
        "apps/app01/deploy.yaml": files["apps/app01/deploy.yaml"].replace("1.0.0", "1.0.1"),
        "apps/app02/deploy.yaml": files["apps/app02/deploy.yaml"].replace("1.0.0", "1.1.0"),
    }, message="hotfix", parent=bare.rev_parse("main"))
    bare.update_ref("refs/heads/main", tip, bare.rev_parse("main"))
    api = provider_for(forge, provider)
    assert api.mergeability(_as_pr(forge, conflicting.pr_number)) == "conflicting"
    results, failures = rebase_all(settings(forge, provider, command="rebase"))
    assert failures == []
    assert {r.pr_number: r.outcome for r in results} == {conflicting.pr_number: "updated", landed.pr_number: "closed"}
    assert api.mergeability(_as_pr(forge, conflicting.pr_number)) == "clean"
    assert "app01:1.1.0" in blob(forge, conflicting.branch, "apps/app01/deploy.yaml")
    closed = forge.pull(REPO, landed.pr_number)
    assert closed.state == "closed" and "already on `main`" in closed.comments[-1].body
    again, _ = rebase_all(settings(forge, provider, command="rebase"))
    assert [r.outcome for r in again] == ["unchanged"]
