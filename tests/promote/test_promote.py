"""`updater promote` end to end against the local forge (GitHub and GitLab APIs): the gate on the
agent's `updater/<cluster>` commit statuses, --no-verify, --wait, several images, --next."""

from __future__ import annotations

import threading

import pytest

from updater.cli import main

REPO = "acme/gitops"
CONTAINER = "        - name: {name}\n          image: {image}\n"
DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  template:
    spec:
      containers:
"""
CONFIG = """\
promotion: [staging, production]
apps:
  api:
    image: ghcr.io/acme/api
    environments:
      staging: {paths: [envs/staging/api/**]}
      production: {paths: [envs/production/api/**]}
  shop:
    environments:
      staging: {paths: [envs/staging/shop/**]}
      production: {paths: [envs/production/shop/**]}
"""


def deploy(name: str, *images: str) -> str:
    return DEPLOY.format(name=name) + "".join(CONTAINER.format(name=f"c{i}", image=i_) for i, i_ in enumerate(images))


FILES = {
    ".updater.yml": CONFIG,
    "envs/staging/api/deploy.yaml": deploy("api", "ghcr.io/acme/api:1.4.2"),
    "envs/production/api/deploy.yaml": deploy("api", "ghcr.io/acme/api:1.4.2"),
    "envs/staging/shop/deploy.yaml": deploy("shop", "ghcr.io/acme/web:3.0.0", "ghcr.io/acme/worker:7.1.0"),
    "envs/production/shop/deploy.yaml": deploy("shop", "ghcr.io/acme/web:2.9.0", "ghcr.io/acme/worker:7.0.0"),
}


@pytest.fixture(params=["github", "gitlab"])
def setup(request, forge, monkeypatch):
    provider = request.param
    forge.create_repo(REPO, FILES)
    # the staging bump lands: this commit introduced api 1.5.0 in staging
    sha = forge.commit(REPO, "main", {"envs/staging/api/deploy.yaml": deploy("api", "ghcr.io/acme/api:1.5.0")},
                       "Bump api 1.5.0 in staging")
    monkeypatch.setenv("GITHUB_TOKEN" if provider == "github" else "GITLAB_TOKEN", forge.token)
    api = forge.github_api_url if provider == "github" else forge.gitlab_api_url
    argv = ["promote", "--repo", forge.repo_url(REPO), "--provider", provider, "--api-url", api, "--retries", "1"]
    return forge, sha, argv


def pulls(forge):
    return [p for p in forge.repo(REPO).pulls.values() if p.state == "open"]


def blob(forge, ref, path):
    return forge.repo(REPO).bare.git("show", f"{ref}:{path}").out


def test_without_the_agents_status_promotion_is_refused(setup, capsys):
    forge, sha, argv = setup
    forge.set_status(REPO, sha, "success", context="ci")  # a CI status is not the agent's evidence
    assert main([*argv, "--target", "api", "--from", "staging", "--to", "production"]) == 4
    err = capsys.readouterr().err
    assert "no updater/<cluster> commit status" in err and sha[:12] in err and "--no-verify" in err
    assert pulls(forge) == []


def test_a_failing_cluster_status_is_named(setup, capsys):
    forge, sha, argv = setup
    forge.set_status(REPO, sha, "success", context="updater/eu-1")
    forge.set_status(REPO, sha, "failure", context="updater/us-1", description="Deployment api not ready")
    assert main([*argv, "--target", "api", "--from", "staging", "--to", "production"]) == 4
    assert "updater/us-1 is failure" in capsys.readouterr().err
    assert pulls(forge) == []


def test_healthy_status_promotes_exactly_the_source_version_with_evidence(setup):
    forge, sha, argv = setup
    forge.set_status(REPO, sha, "success", context="updater/staging-1", description="synced, healthy")
    assert main([*argv, "--target", "api", "--from", "staging", "--to", "production"]) == 0
    [pull] = pulls(forge)
    assert "api:1.5.0" in blob(forge, pull.head, "envs/production/api/deploy.yaml")
    assert "api:1.5.0" in blob(forge, pull.head, "envs/staging/api/deploy.yaml")
    assert blob(forge, "main", "envs/production/api/deploy.yaml") == FILES["envs/production/api/deploy.yaml"]
    assert sha in pull.body and "`updater/staging-1`: success" in pull.body


def test_the_agents_status_on_a_later_commit_that_holds_the_versions_counts(setup, capsys):
    # the agent deploys the tip, which is often a commit after the bump (another app's change)
    forge, sha, argv = setup
    later = forge.commit(REPO, "main", {"envs/staging/web/readme.txt": "unrelated\n"}, "web docs")
    forge.set_status(REPO, later, "success", context="updater/staging-1")
    assert main([*argv, "--target", "api", "--from", "staging", "--to", "production"]) == 0, capsys.readouterr().err
    [pull] = pulls(forge)
    assert later in pull.body and "`updater/staging-1`: success" in pull.body
    # ... but not on a commit after a change to the versions themselves
    newer = forge.commit(REPO, "main", {"envs/staging/api/deploy.yaml": deploy("api", "ghcr.io/acme/api:1.6.0")},
                         "Bump api 1.6.0 in staging")
    assert main([*argv, "--target", "api", "--from", "staging", "--to", "production"]) == 4
    assert newer[:12] in capsys.readouterr().err


def test_no_verify_promotes_and_says_so(setup):
    forge, sha, argv = setup
    assert main([*argv, "--target", "api", "--from", "staging", "--to", "production", "--no-verify"]) == 0
    [pull] = pulls(forge)
    assert "not verified" in pull.body and "api:1.5.0" in blob(forge, pull.head, "envs/production/api/deploy.yaml")


def test_wait_sees_the_status_arrive(setup):
    forge, sha, argv = setup
    timer = threading.Timer(1.0, lambda: forge.set_status(REPO, sha, "success", context="updater/staging-1"))
    timer.start()
    try:
        assert main([*argv, "--target", "api", "--from", "staging", "--to", "production", "--wait", "20"]) == 0
    finally:
        timer.cancel()
    assert len(pulls(forge)) == 1


def test_several_images_in_one_pr(setup):
    forge, _, argv = setup
    commit = forge.repo(REPO).bare.git("log", "-1", "--format=%H", "main", "--", "envs/staging/shop").out.strip()
    forge.set_status(REPO, commit, "success", context="updater/staging-1")
    assert main([*argv, "--target", "shop", "--from", "staging", "--to", "production"]) == 0
    [pull] = pulls(forge)
    text = blob(forge, pull.head, "envs/production/shop/deploy.yaml")
    assert "web:3.0.0" in text and "worker:7.1.0" in text


def test_next_follows_promotion_order_and_bad_flags(setup, capsys):
    forge, sha, argv = setup
    forge.set_status(REPO, sha, "success", context="updater/staging-1")
    assert main([*argv, "--target", "api", "--next"]) == 0
    [pull] = pulls(forge)
    assert "api:1.5.0" in blob(forge, pull.head, "envs/production/api/deploy.yaml")
    assert main([*argv, "--target", "api", "--next", "--from", "staging"]) == 2
    assert main([*argv, "--target", "api", "--from", "staging", "--to", "qa"]) == 2
    assert "qa" in capsys.readouterr().err
