"""`updater status` against the local forge: versions in git, the open PR's proposal, the agent's
per-cluster statuses, missing evidence shown as such, --target and --json."""

from __future__ import annotations

import json

import pytest

from tests.promote.test_promote import FILES, REPO, deploy
from updater.cli import main


@pytest.fixture(params=["github", "gitlab"])
def setup(request, forge, monkeypatch):
    provider = request.param
    forge.create_repo(REPO, FILES)
    sha = forge.commit(REPO, "main", {"envs/staging/api/deploy.yaml": deploy("api", "ghcr.io/acme/api:1.5.0")},
                       "Bump api 1.5.0 in staging")
    monkeypatch.setenv("GITHUB_TOKEN" if provider == "github" else "GITLAB_TOKEN", forge.token)
    api = forge.github_api_url if provider == "github" else forge.gitlab_api_url
    repo = ["--repo", forge.repo_url(REPO), "--provider", provider, "--api-url", api]
    return forge, sha, repo


def test_status_shows_git_pr_and_cluster_health(setup, capsys):
    forge, sha, repo = setup
    forge.set_status(REPO, sha, "success", context="updater/eu-1")
    forge.set_status(REPO, sha, "failure", context="updater/us-1")
    assert main(["promote", *repo, "--target", "api", "--from", "staging", "--to", "production",
                 "--no-verify", "--retries", "1"]) == 0
    capsys.readouterr()
    assert main(["status", *repo, "--json"]) == 0
    rows = {row["target"]: row for row in json.loads(capsys.readouterr().out)}
    assert set(rows) == {"api/staging", "api/production", "shop/staging", "shop/production"}
    staging, production = rows["api/staging"], rows["api/production"]
    assert staging["in_git"] == ["ghcr.io/acme/api:1.5.0"] and staging["commit"] == sha
    assert [(c["cluster"], c["state"]) for c in staging["clusters"]] == [("eu-1", "success"), ("us-1", "failure")]
    assert production["in_git"] == ["ghcr.io/acme/api:1.4.2"] and production["evidence"] == "missing"
    assert production["proposed"]["refs"] == ["ghcr.io/acme/api:1.5.0"]
    assert rows["api/staging"]["proposed"] is None
    assert rows["shop/production"]["in_git"] == ["ghcr.io/acme/web:2.9.0", "ghcr.io/acme/worker:7.0.0"]


def test_status_table_for_one_app(setup, capsys):
    forge, sha, repo = setup
    assert main(["status", *repo, "--target", "api"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["TARGET", "IN", "GIT", "PROPOSED", "CLUSTERS"]
    assert len(lines) == 3 and "shop" not in out
    assert "api:1.5.0" in lines[1] and f"no evidence on {sha[:12]}" in lines[1]
    assert main(["status", *repo, "--target", "nope"]) == 2
