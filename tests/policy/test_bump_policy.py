"""`.updater.yml` `policy:` enforced by `updater bump` in local, push and pull-request mode: a refusal
is exit 4 naming the rule, and nothing is written, committed, pushed or proposed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gitrepos import write_tree
from updater.cli import main

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
          image: ghcr.io/acme/api:1.4.2
"""
CONFIG = """\
policy:
  major-needs: {label: major-ok}
apps:
  api:
    image: ghcr.io/acme/api
    environments:
      staging:
        paths: [apps/api/staging/**]
      production:
        paths: [apps/api/production/**]
        policy:
          allowed-registries:
            - {registries: [registry.acme.internal], namespaces: [production]}
"""
FILES = {".updater.yml": CONFIG, "apps/api/staging/deploy.yaml": DEPLOY,
         "apps/api/production/deploy.yaml": DEPLOY}
REPO = "acme/gitops"


def test_local_major_jump_is_refused_and_nothing_is_written(tmp_path, capsys):
    write_tree(tmp_path, FILES)
    code = main(["bump", "--dir", str(tmp_path), "--target", "api/staging", "--image", "ghcr.io/acme/api:2.0.0"])
    assert code == 4
    err = capsys.readouterr().err
    assert "policy rule major-needs" in err and "label major-ok" in err
    assert (tmp_path / "apps/api/staging/deploy.yaml").read_text() == DEPLOY
    # a minor bump passes the same policy
    assert main(["bump", "--dir", str(tmp_path), "--target", "api/staging", "--image", "ghcr.io/acme/api:1.5.0"]) == 0
    assert "api:1.5.0" in (tmp_path / "apps/api/staging/deploy.yaml").read_text()


def test_local_registry_not_allowed_in_production(tmp_path, capsys):
    write_tree(tmp_path, FILES)
    code = main(["bump", "--dir", str(tmp_path), "--target", "api/production", "--image", "ghcr.io/acme/api:1.5.0"])
    assert code == 4
    assert "policy rule allowed-registries" in capsys.readouterr().err
    assert (tmp_path / "apps/api/production/deploy.yaml").read_text() == DEPLOY


def test_push_mode_refusal_pushes_nothing(forge, monkeypatch, capsys):
    forge.create_repo(REPO, FILES)
    before = forge.repo(REPO).bare.rev_parse("main")
    monkeypatch.setenv("FORGE_TOKEN", forge.token)
    code = main(["bump", "--repo", forge.repo_url(REPO), "--mode", "push", "--token-env", "FORGE_TOKEN",
                 "--target", "api/staging", "--image", "ghcr.io/acme/api:2.0.0", "--retries", "1"])
    assert code == 4
    assert "policy rule major-needs" in capsys.readouterr().err
    assert forge.repo(REPO).bare.rev_parse("main") == before


@pytest.mark.parametrize("provider", ["github", "gitlab"])
def test_pr_mode_major_jump_needs_the_label(forge, monkeypatch, capsys, provider):
    forge.create_repo(REPO, FILES)
    var = "GITHUB_TOKEN" if provider == "github" else "GITLAB_TOKEN"
    monkeypatch.setenv(var, forge.token)
    api = forge.github_api_url if provider == "github" else forge.gitlab_api_url
    base = ["bump", "--repo", forge.repo_url(REPO), "--mode", "pr", "--provider", provider, "--api-url", api,
            "--target", "api/staging", "--image", "ghcr.io/acme/api:2.0.0", "--retries", "1"]
    assert main(base) == 4
    assert "policy rule major-needs" in capsys.readouterr().err
    repo = forge.repo(REPO)
    assert repo.pulls == {} and repo.bare.rev_parse("refs/heads/updater/main/api/staging") is None
    assert main([*base, "--label", "major-ok"]) == 0
    [pull] = repo.pulls.values()
    assert "major-ok" in pull.labels


def test_promote_goes_through_the_same_policy(forge, monkeypatch, capsys):
    config = CONFIG.split("        policy:")[0]  # major-needs only
    forge.create_repo(REPO, {**FILES, ".updater.yml": config,
                             "apps/api/staging/deploy.yaml": DEPLOY.replace("1.4.2", "2.0.0")})
    monkeypatch.setenv("GITHUB_TOKEN", forge.token)
    argv = ["promote", "--repo", forge.repo_url(REPO), "--provider", "github", "--api-url", forge.github_api_url,
            "--target", "api", "--from", "staging", "--to", "production", "--no-verify", "--retries", "1"]
    assert main(argv) == 4
    assert "policy rule major-needs" in capsys.readouterr().err
    assert forge.repo(REPO).pulls == {}
