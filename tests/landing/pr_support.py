"""Shared set-up for the pull-request mode tests: a manifest repo on the local forge, settings
built from real CLI arguments, and forge-side helpers (merge through the API, read PRs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import requests

from updater.cli import build_parser
from updater.options.request import build_request
from updater.forges.base import Provider, detect_target, open_provider
from updater.forges.settings import ProviderSettings
from updater.landing.pr import PrSettings
from updater_sandbox.forge import Forge
from updater_sandbox.state import Pull

REPO = "acme/gitops"
TOKEN_VAR = {"github": "GITHUB_TOKEN", "gitlab": "GITLAB_TOKEN"}
PROVIDERS = ("github", "gitlab")

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
spec:
  template:
    spec:
      containers:
        - name: {app}
          image: ghcr.io/acme/{app}:1.0.0  # keep this comment
"""


def app_files(count: int, *, shared: bool = False) -> dict[str, str]:
    """One Deployment per app; with `shared`, also one line per app in a common file, so bumps of
    neighbouring apps touch adjacent lines — which git merges as a conflict."""
    files = {f"apps/app{i:02d}/deploy.yaml": DEPLOY.format(app=f"app{i:02d}") for i in range(count)}
    if shared:
        files["clusters/prod/versions.yaml"] = "".join(
            f"app{i:02d}: ghcr.io/acme/app{i:02d}:1.0.0  # updater:image=ghcr.io/acme/app{i:02d}\n" for i in range(count))
    return files


def api_url(forge: Forge, provider: str) -> str:
    return forge.github_api_url if provider == "github" else forge.gitlab_api_url


def env_for(forge: Forge, provider: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    return {TOKEN_VAR[provider]: forge.token, **(extra or {})}


def argv(forge: Forge, provider: str, *args: str, command: str = "bump") -> list[str]:
    base = [command, "--repo", forge.repo_url(REPO), "--provider", provider, "--api-url", api_url(forge, provider)]
    if command == "bump":
        base += ["--mode", "pr"]
    return [*base, *args]


def settings(forge: Forge, provider: str, *args: str, command: str = "bump",
             env: Mapping[str, str] | None = None) -> PrSettings:
    parsed = build_parser().parse_args(argv(forge, provider, *args, command=command))
    environment = env_for(forge, provider, env)
    # --target here only names the PR (these repositories have no .updater.yml to read it from)
    values = {**vars(parsed), "target": None}
    request = build_request(values, environment, command="rebase" if command == "rebase" else "bump")
    return PrSettings.from_request(replace(request, target=getattr(parsed, "target", None)), environment)


def provider_for(forge: Forge, provider: str) -> Provider:
    target = detect_target(forge.repo_url(REPO), provider=provider, api_url=api_url(forge, provider))
    return open_provider(target, token=forge.token, settings=ProviderSettings(poll_attempts=40, poll_wait=0.1))


def open_pulls(forge: Forge) -> list[Pull]:
    return [p for p in forge.repo(REPO).pulls.values() if p.state == "open"]


def merge(forge: Forge, provider: str, number: int, sha: str) -> requests.Response:
    """Merge through the forge's API, as a human pressing the button would (with the sha guard)."""
    if provider == "github":
        return requests.put(f"{forge.github_api_url}/repos/{REPO}/pulls/{number}/merge",
                            json={"merge_method": "merge", "sha": sha},
                            headers={"Authorization": f"token {forge.token}"}, timeout=30)
    return requests.put(f"{forge.url}/api/v4/projects/{REPO.replace('/', '%2F')}/merge_requests/{number}/merge",
                        json={"sha": sha}, headers={"PRIVATE-TOKEN": forge.token}, timeout=30)


def blob(forge: Forge, ref: str, path: str) -> str:
    return forge.repo(REPO).bare.git("show", f"{ref}:{path}").out
