"""Both providers against the local forge: reads and writes a PR bot makes, mergeability polling,
and how API failures become updater's errors (retried with the forge's own hints, or failing at
once naming the token variable and the permission)."""

from __future__ import annotations

import time

import pytest

from updater.errors import AuthFailed, BadInput, RemoteError
from updater.forges.base import AlreadyExists, AutoMergeUnavailable, ForgeTarget, open_provider
from updater.forges.settings import ProviderSettings
from updater.retry import RetrySettings
from updater_sandbox import faults
from updater_sandbox.state import Protection

REPO = "acme/gitops"
FAST = ProviderSettings(RetrySettings(attempts=4, wait_base=0.05, wait_max=2.0), poll_attempts=30, poll_wait=0.05)

pytestmark = pytest.mark.parametrize("provider", ["github", "gitlab"])


def _target(forge, provider: str, project: str = REPO) -> ForgeTarget:
    api = forge.github_api_url if provider == "github" else forge.gitlab_api_url
    return ForgeTarget(provider, api, project, "FORGE_TOKEN")  # type: ignore[arg-type]


def _provider(forge, provider: str, *, token: str | None = None, settings: ProviderSettings = FAST,
              project: str = REPO):
    return open_provider(_target(forge, provider, project), token=token or forge.token, settings=settings)


def _branch(forge, name: str, text: str = "x: 1\n") -> str:
    from updater_sandbox.seed import commit_files

    bare = forge.repo(REPO).bare
    sha = commit_files(bare, {"change.yaml": text}, message=f"on {name}", parent=bare.rev_parse("main"))
    bare.update_ref(f"refs/heads/{name}", sha, None)
    return sha


@pytest.fixture()
def repo(forge):
    forge.create_repo(REPO, {"change.yaml": "x: 0\n"})
    return forge


def test_create_find_update_label_comment_close(repo, provider):
    api = _provider(repo, provider)
    _branch(repo, "updater/main/a")
    pr = api.create(head="updater/main/a", base="main", title="T", body="B", draft=False)
    assert api.find_open(head="updater/main/a") == pr and api.find_open(head="updater/main/b") is None
    assert pr.url.startswith(repo.url) and pr.state == "open" and pr.head_sha
    updated = api.update(pr, title="T2", body="B2")
    assert (updated.title, updated.body) == ("T2", "B2")
    api.add_labels(pr, ["deploy", "bot"])
    api.comment(pr, "hello")
    pull = repo.pull(REPO, pr.number)
    assert sorted(pull.labels) == ["bot", "deploy"] and [c.body for c in pull.comments] == ["hello"]
    api.close(pr, comment="bye")
    assert repo.pull(REPO, pr.number).state == "closed" and api.find_open(head="updater/main/a") is None


def test_second_pr_for_the_same_branch_is_already_exists(repo, provider):
    api = _provider(repo, provider)
    _branch(repo, "updater/main/a")
    api.create(head="updater/main/a", base="main", title="T", body="B", draft=False)
    with pytest.raises(AlreadyExists):
        api.create(head="updater/main/a", base="main", title="T", body="B", draft=False)


def test_list_open_filters_by_branch_prefix(repo, provider):
    api = _provider(repo, provider)
    for name in ("updater/main/a", "feature/x", "updater/main/b"):
        _branch(repo, name)
        api.create(head=name, base="main", title=name, body="", draft=False)
    assert [p.head for p in api.list_open(head_prefix="updater/")] == ["updater/main/a", "updater/main/b"]


def test_mergeability_is_polled_while_the_forge_computes(repo, provider):
    api = _provider(repo, provider)
    _branch(repo, "updater/main/a")
    pr = api.create(head="updater/main/a", base="main", title="T", body="", draft=False)
    repo.mergeability_delay = 2.0  # long enough for a loaded machine to read once before it settles
    started = time.monotonic()
    _branch(repo, "updater/main/a", "x: 2\n")  # a push: the forge starts computing again
    assert api.peek_mergeability(api.list_open(head_prefix="updater/")) == {pr.number: "unknown"}
    assert api.mergeability(pr) == "clean"
    assert time.monotonic() - started >= 1.5


def test_mergeability_reports_conflicts(repo, provider):
    api = _provider(repo, provider)
    _branch(repo, "updater/main/a", "x: 1\n")
    pr = api.create(head="updater/main/a", base="main", title="T", body="", draft=False)
    bare = repo.repo(REPO).bare
    from updater_sandbox.seed import commit_files

    bare.update_ref("refs/heads/main", commit_files(bare, {"change.yaml": "x: 9\n"}, message="m",
                                                    parent=bare.rev_parse("main")), None)
    assert api.mergeability(pr) == "conflicting"
    listed = api.list_open(head_prefix="updater/")
    assert api.peek_mergeability(listed) == {pr.number: "conflicting"}


def test_mergeability_that_never_settles_is_unknown_within_the_bound(repo, provider):
    api = _provider(repo, provider, settings=ProviderSettings(poll_attempts=3, poll_wait=0.05))
    _branch(repo, "updater/main/a")
    repo.mergeability_delay = 60
    pr = api.create(head="updater/main/a", base="main", title="T", body="", draft=False)
    started = time.monotonic()
    assert api.mergeability(pr) == "unknown"
    assert time.monotonic() - started < 5


def test_rejected_token_fails_at_once_naming_the_variable(repo, provider):
    api = _provider(repo, provider, token="not-the-token")
    before = len(repo.requests)
    with pytest.raises(AuthFailed, match="FORGE_TOKEN was rejected"):
        api.find_open(head="x")
    # no retry (GitLab's provider then asks /user and /personal_access_tokens/self what the token is)
    assert [r.status for r in repo.requests[before:] if "/merge_requests" in r.path or "/pulls" in r.path] == [401]


def test_read_only_token_names_the_permission(repo, provider):
    from updater_sandbox.forge import Forge

    with Forge(repo.root / "ro", read_only_tokens=("read-only-token",)) as forge:
        forge.create_repo(REPO, {"change.yaml": "x: 0\n"})
        _branch(forge, "updater/main/a")
        api = _provider(forge, provider, token="read-only-token")
        with pytest.raises(AuthFailed, match="forbidden.*FORGE_TOKEN.*(Pull requests|api scope|Developer role)"):
            api.create(head="updater/main/a", base="main", title="T", body="", draft=False)


def test_unknown_project_is_bad_input_naming_the_token(repo, provider):
    with pytest.raises(BadInput, match="not found \\(404\\).*FORGE_TOKEN"):
        _provider(repo, provider, project="acme/nope").find_open(head="x")


def test_rate_limit_waits_as_the_forge_says(repo, provider):
    api = _provider(repo, provider)
    limit = faults.secondary_rate_limit if provider == "github" else faults.rate_limit
    repo.inject(limit(retry_after=1, service=provider))
    started = time.monotonic()
    assert api.find_open(head="x") is None
    assert time.monotonic() - started >= 1.0


def test_primary_rate_limit_is_retried(repo, provider):
    api = _provider(repo, provider)
    repo.inject(faults.rate_limit(retry_after=1, service=provider))
    assert api.list_open(head_prefix="updater/") == []
    assert [r.status for r in repo.log_for(provider)][:2] == [403 if provider == "github" else 429, 200]


def test_5xx_and_dropped_connections_are_retried(repo, provider):
    api = _provider(repo, provider)
    repo.inject(faults.http_status(502, service=provider))
    repo.inject(faults.drop(service=provider))
    assert api.find_open(head="x") is None
    assert [r.status for r in repo.log_for(provider)] == [502, None, 200]


def test_persistent_5xx_gives_up_after_the_attempts(repo, provider):
    api = _provider(repo, provider)
    repo.inject(faults.http_status(503, service=provider, times=100))
    with pytest.raises(RemoteError, match=r"still failing after 4 attempt\(s\)") as err:
        api.find_open(head="x")
    assert not err.value.transient
    assert len(repo.log_for(provider)) == 4


def test_auto_merge_waits_for_required_ci(repo, provider):
    api = _provider(repo, provider)
    if provider == "github":
        repo.protect(REPO, "main", Protection(required_contexts=("ci",)))
    else:
        repo.settings(REPO).only_allow_merge_if_pipeline_succeeds = True
    sha = _branch(repo, "updater/main/a")
    pr = api.create(head="updater/main/a", base="main", title="T", body="", draft=False)
    api.enable_auto_merge(pr, method="squash")
    repo.settle()
    assert not repo.pull(REPO, pr.number).merged
    repo.set_status(REPO, sha, "success", context="ci")
    assert repo.pull(REPO, pr.number).merged


def test_auto_merge_forbidden_by_the_repository(repo, provider):
    if provider == "gitlab":  # GitLab cannot forbid it; a closed MR cannot take it
        api = _provider(repo, provider)
        _branch(repo, "updater/main/a")
        pr = api.create(head="updater/main/a", base="main", title="T", body="", draft=False)
        api.close(pr, comment="closed")
    else:
        repo.settings(REPO).allow_auto_merge = False
        repo.protect(REPO, "main", Protection(required_contexts=("ci",)))
        api = _provider(repo, provider)
        _branch(repo, "updater/main/a")
        pr = api.create(head="updater/main/a", base="main", title="T", body="", draft=False)
    started = time.monotonic()
    with pytest.raises(AutoMergeUnavailable, match="stays open"):
        api.enable_auto_merge(pr, method="merge")
    # at once: a closed MR's 405 is not "no pipeline yet" (it used to be waited on for pipeline_wait)
    assert time.monotonic() - started < 10
