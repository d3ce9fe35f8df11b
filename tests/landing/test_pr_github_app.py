"""Pull-request mode authenticated as a GitHub App against the local forge (issue 16 item 1): the
forge verifies the RS256 JWT PyGithub signs, finds the installation, mints short-lived
permission-scoped tokens; updater uses them for the API and git, refreshes them during a run, and
fails with exit 6 naming the app/installation or the permission. The forge's own token is revoked
in every test, so only installation tokens can have done the work."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import jwt
import pytest
import requests

from tests.app_support import APP_ID, PRIVATE, app_only, key_pair
from tests.landing.pr_support import REPO, app_files, argv, open_pulls, settings
from updater.errors import AuthFailed
from updater.landing.pr import bump_pr
from updater_sandbox import github_apps


@pytest.fixture()
def app_forge(forge):
    forge.create_repo(REPO, app_files(2))
    return forge, app_only(forge)


def _settings(forge, *extra, key=PRIVATE):
    return settings(forge, "github", "--image", "ghcr.io/acme/app01:1.1.0", "--label", "deploy",
                    "--app-id", str(APP_ID), "--app-private-key-env", "APP_KEY", *extra, env={"APP_KEY": key})


def test_pr_bump_as_an_app_uses_installation_tokens_for_api_and_git(app_forge):
    forge, app = app_forge
    github_apps.install(forge.store, app, [REPO])
    result = bump_pr(_settings(forge))
    assert result.outcome == "created" and result.changed
    [pull] = open_pulls(forge)
    assert pull.labels == ["deploy"]
    assert forge.repo(REPO).bare.rev_parse(pull.head)  # git pushed the branch with the installation token
    assert github_apps.apps_of(forge.store).minted  # and it was minted through the JWT routes


def test_the_forge_refuses_a_jwt_signed_by_another_key_or_too_long_lived(app_forge):
    forge, app = app_forge
    github_apps.install(forge.store, app, [REPO])
    other, _ = key_pair()
    with pytest.raises(AuthFailed) as err:
        bump_pr(_settings(forge, key=other))
    assert f"GitHub App {APP_ID}" in str(err.value) and "401" in str(err.value)
    # exp more than 10 minutes after now (GitHub's limit, plus its skew allowance) is refused too
    now = int(time.time())
    long_lived = jwt.encode({"iat": now - 60, "exp": now + 1200, "iss": str(APP_ID)}, PRIVATE, algorithm="RS256")
    answer = forge_get(forge, "/app", long_lived)
    assert answer.status_code == 401 and "too far in the future" in answer.json()["message"]
    ok = jwt.encode({"iat": now - 60, "exp": now + 540, "iss": str(APP_ID)}, PRIVATE, algorithm="RS256")
    assert forge_get(forge, "/app", ok).json()["id"] == APP_ID
    wrong_issuer = jwt.encode({"iat": now - 60, "exp": now + 540, "iss": "77"}, PRIVATE, algorithm="RS256")
    assert forge_get(forge, "/app", wrong_issuer).status_code == 401


def forge_get(forge, path, bearer, scheme="Bearer"):
    return requests.get(f"{forge.github_api_url}{path}", headers={"Authorization": f"{scheme} {bearer}"}, timeout=10)


def test_tokens_are_refreshed_during_a_long_run(app_forge):
    forge, app = app_forge
    app.token_ttl = 1.0
    github_apps.install(forge.store, app, [REPO])
    config = _settings(forge)
    first = config.credentials.token
    time.sleep(1.5)
    assert forge_get(forge, f"/repos/{REPO}", first, scheme="token").status_code == 401  # it really expired
    # Longer than one git command, shorter than PyGithub's 20 s refresh margin: from now on every API
    # request and git command of the run needs (and gets) a freshly minted token.
    app.token_ttl = 21.0
    minted = github_apps.apps_of(forge.store).minted
    before = len(minted)
    result = bump_pr(config)  # every token this run was handed when it started has expired
    assert result.outcome == "created"
    assert len(minted) > before and len(set(minted)) == len(minted)


def _cli(forge, env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GITLAB_", "GIT_"))}
    env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, **env_extra})
    return subprocess.run([sys.executable, "-m", "updater", *argv(forge, "github", "--image", "ghcr.io/acme/app01:1.1.0",
                                                                  "--app-private-key-env", "APP_KEY")],
                          env=env, capture_output=True, text=True, timeout=120)


def test_a_suspended_installation_fails_with_exit_6_naming_app_and_installation(app_forge):
    forge, app = app_forge
    installation = github_apps.install(forge.store, app, [REPO])
    installation.suspended = True
    done = _cli(forge, {"GITHUB_APP_ID": str(APP_ID), "APP_KEY": PRIVATE})
    assert done.returncode == 6, done.stderr
    assert f"GitHub App {APP_ID}" in done.stderr and f"installation {installation.id}" in done.stderr
    assert "suspended" in done.stderr
    assert PRIVATE.splitlines()[1] not in done.stderr + done.stdout
    assert open_pulls(forge) == []


def test_an_app_not_installed_on_the_repository_fails_with_exit_6(app_forge):
    forge, app = app_forge
    github_apps.install(forge.store, app, ["acme/elsewhere"])
    done = _cli(forge, {"GITHUB_APP_ID": str(APP_ID), "APP_KEY": PRIVATE})
    assert done.returncode == 6, done.stderr
    assert f"GitHub App {APP_ID}" in done.stderr and REPO in done.stderr and "install the app" in done.stderr


def test_a_token_without_pull_requests_write_fails_with_exit_6_naming_the_permission(app_forge):
    forge, app = app_forge
    github_apps.install(forge.store, app, [REPO], permissions={"contents": "write", "metadata": "read"})
    done = _cli(forge, {"GITHUB_APP_ID": str(APP_ID), "APP_KEY": PRIVATE})
    assert done.returncode == 6, done.stderr
    assert "Resource not accessible by integration" in done.stderr
    assert "pull_requests: write" in done.stderr
    assert open_pulls(forge) == []



def test_api_commits_as_an_app_are_authored_by_its_bot_and_need_contents_write(app_forge):
    """--commit-via api: GitHub (the forge) authors the commit as the installation's bot; once the
    installation may only read contents, the commit is refused (exit 6) and nothing is left behind."""
    forge, app = app_forge
    installation = github_apps.install(forge.store, app, [REPO])
    result = bump_pr(_settings(forge, "--commit-via", "api"))
    assert result.outcome == "created"
    bare = forge.repo(REPO).bare
    raw = bare.git("cat-file", "commit", result.commit_sha).out
    assert f"\nauthor {app.slug}[bot] <" in raw and "\ngpgsig " in raw

    installation.permissions["contents"] = "read"
    branches = bare.branches()
    with pytest.raises(AuthFailed, match="Resource not accessible by integration") as refused:
        bump_pr(settings(forge, "github", "--image", "ghcr.io/acme/app01:1.2.0", "--app-id", str(APP_ID),
                         "--app-private-key-env", "APP_KEY", "--commit-via", "api", env={"APP_KEY": PRIVATE}))
    assert refused.value.exit_code == 6
    assert bare.branches() == branches  # the PR branch untouched, the scratch branch deleted again
