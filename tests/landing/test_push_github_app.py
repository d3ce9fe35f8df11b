"""Push mode authenticated as a GitHub App against the local forge (issue 16 item 1): git clones,
fetches and pushes with installation tokens minted through the app's JWT, a fresh one for each git
command once the current one nears its expiry, so a retry loop that outlives one token still lands;
a revoked installation is exit 6 with one clear line. The forge's own token is revoked in every
test, so only installation tokens can have done the work."""

from __future__ import annotations

import time
import pytest
import requests

from tests.app_support import APP_ID, PRIVATE, app_only, assert_no_secrets, run_cli
from updater.cli import build_parser
from updater.errors import AuthFailed
from updater.landing.push import land_push
from updater.landing.settings import LandingSettings, settings_from_request
from updater.options.request import build_request
from updater_sandbox import faults, github_apps

REPO = "acme/gitops"
DEPLOY = "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n" \
         "          image: ghcr.io/acme/api:1.0.0  # keep\n"


@pytest.fixture()
def app_forge(forge):
    forge.create_repo(REPO, {"apps/api/deploy.yaml": DEPLOY})
    return forge, app_only(forge)


def _argv(forge, *extra: str) -> list[str]:
    return ["bump", "--repo", forge.repo_url(REPO), "--mode", "push", "--provider", "github",
            "--api-url", forge.github_api_url, "--image", "ghcr.io/acme/api:1.1.0", "--app-id", str(APP_ID), *extra]


def _settings(forge, *extra: str) -> LandingSettings:
    env = {"APP_KEY": PRIVATE}
    parsed = build_parser().parse_args(_argv(forge, "--app-private-key-env", "APP_KEY", *extra))
    return settings_from_request(build_request(vars(parsed), env), env)


def _main(forge) -> str:
    return forge.repo(REPO).bare.git("show", "main:apps/api/deploy.yaml").out


def test_push_as_an_app_lands_and_refreshes_the_token_during_retries(app_forge):
    forge, app = app_forge
    # shorter than the run below (two waits of 2.5 s), so the run outlives the first token; long
    # enough that a token minted for one git command is still valid when a loaded machine runs it
    app.token_ttl = 4.0
    github_apps.install(forge.store, app, [REPO])
    # the first two pushes meet a flaky forge: push mode retries (2.5 s apart), as it does for races
    forge.inject(faults.Fault("status", service="git", status=502, method="POST", path_contains="git-receive-pack",
                              times=2))
    config = _settings(forge, "--retries", "5", "--retry-wait", "2.5", "--retry-wait-max", "2.5")
    first = config.credentials.token
    minted = github_apps.apps_of(forge.store).minted
    before, started = len(minted), time.monotonic()
    result = land_push(config)
    assert result.outcome == "pushed" and result.attempts >= 3
    assert time.monotonic() - started > app.token_ttl
    assert "ghcr.io/acme/api:1.1.0  # keep" in _main(forge)
    # it really expired, and the push went through with tokens minted during the run
    answer = requests.get(f"{forge.github_api_url}/repos/{REPO}", headers={"Authorization": f"token {first}"},
                          timeout=10)
    assert answer.status_code == 401
    assert len(minted) - before >= 3 and len(set(minted)) == len(minted)


def test_an_installation_revoked_during_the_run_stops_it_with_auth_failed(app_forge):
    forge, app = app_forge
    app.token_ttl = 5.0  # within PyGithub's refresh margin: each git command asks for a new token
    installation = github_apps.install(forge.store, app, [REPO])
    config = _settings(forge)
    github_apps.revoke(forge.store, app, installation)
    with pytest.raises(AuthFailed) as err:
        land_push(config)
    message = str(err.value)
    assert f"GitHub App {APP_ID}" in message and f"installation {installation.id}" in message
    assert "revoked" in message and "install the app" in message
    assert "1.1.0" not in _main(forge)


def _cli(forge, tmp_path, *extra: str, key_file: bool = True):
    key = tmp_path / "app.pem"
    key.write_text(PRIVATE)
    return run_cli([*_argv(forge, *extra), *(("--app-private-key-file", str(key)) if key_file else ())], tmp_path)


def test_push_as_an_app_through_the_cli_with_a_key_file(app_forge, tmp_path):
    forge, app = app_forge
    github_apps.install(forge.store, app, [REPO])
    done = _cli(forge, tmp_path, "--json")
    assert done.returncode == 0, done.stderr
    assert '"outcome": "pushed"' in done.stdout and "1.1.0" in _main(forge)
    assert_no_secrets(done.stdout + done.stderr, forge)


def test_a_revoked_installation_is_exit_6_with_one_clear_line(app_forge, tmp_path):
    forge, app = app_forge
    github_apps.revoke(forge.store, app, github_apps.install(forge.store, app, [REPO]))
    done = _cli(forge, tmp_path)
    assert done.returncode == 6, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert f"GitHub App {APP_ID}" in lines[0] and REPO in lines[0] and "install the app" in lines[0]
    assert "1.1.0" not in _main(forge)
    assert_no_secrets(done.stdout + done.stderr, forge)


def test_push_mode_app_auth_needs_a_github_forge(forge, tmp_path):
    forge.create_repo(REPO, {"apps/api/deploy.yaml": DEPLOY})
    done = run_cli(["bump", "--repo", forge.repo_url(REPO), "--mode", "push", "--provider", "gitlab",
                    "--image", "ghcr.io/acme/api:1.1.0", "--app-id", str(APP_ID),
                    "--app-private-key-env", "APP_KEY"], tmp_path, {"APP_KEY": PRIVATE})
    assert done.returncode == 2, done.stderr
    assert "GitHub Apps authenticate on GitHub only" in done.stderr


def test_push_mode_commit_via_api_as_an_app_lands_a_verified_commit(app_forge, tmp_path):
    # the two halves of issue 16 together: GitHub App auth (whose tokens refresh per request) for
    # the GraphQL commit of push mode's --commit-via api
    forge, app = app_forge
    github_apps.install(forge.store, app, [REPO])
    done = _cli(forge, tmp_path, "--commit-via", "api", "--json")
    assert done.returncode == 0, done.stderr
    assert '"outcome": "pushed"' in done.stdout and "1.1.0" in _main(forge)
    bare = forge.repo(REPO).bare
    assert "gpgsig" in bare.git("cat-file", "commit", "main").out  # made (and signed) by the forge's API
    posts = [r for r in forge.requests if r.method == "POST" and r.path.endswith("/graphql")]
    assert posts and all(r.status == 200 for r in posts)
    assert_no_secrets(done.stdout + done.stderr, forge)
