"""Fixtures for the agent: a manifest repository served over real git HTTP with a token, a working
clone to push changes from, and an agent (or the `updater agent` command) pointed at the emulator."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.gitrepos import askpass_env, clone, commit_all, git, make_remote, write_tree
from updater.agent.client import KubeClient, load_config
from updater.agent.loop import Agent
from updater.agent.settings import AgentSettings, AppSettings
from updater_sandbox.git_http import GitHttpServer
from updater_sandbox.kube.server import KubeApiServer

TOKEN = "gitops-read-token-4321"
REPO = "acme/gitops.git"

NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\ndata:\n  mode: fast\n"


def deployment(image: str, *, name: str = "api", replicas: int = 2) -> str:
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: shop
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: {name}
        image: {image}
        ports:
        - containerPort: 8080
"""


SEED = {
    "clusters/prod/namespace.yaml": NAMESPACE,
    "clusters/prod/api/deployment.yaml": deployment("ghcr.io/acme/api:1.0.0"),
    "clusters/prod/api/settings.yaml": CONFIGMAP,
    "clusters/prod/README.md": "not yaml\n",
    ".github/workflows/ci.yaml": "on: push\njobs: {}\n",
}


@dataclass
class GitOpsRepo:
    server: GitHttpServer
    work: Path
    env: Mapping[str, str]

    @property
    def url(self) -> str:
        return self.server.repo_url(REPO)

    def commit(self, files: Mapping[str, str | None], message: str) -> str:
        """Write (or, for None, delete) files, commit and push to main; the new tip."""
        for rel, content in files.items():
            if content is None:
                (self.work / rel).unlink()
            else:
                write_tree(self.work, {rel: content})
        sha = commit_all(self.work, message)
        self.push()
        return sha

    def revert(self, sha: str) -> str:
        git("revert", "--no-edit", sha, cwd=self.work)
        self.push()
        return git("rev-parse", "HEAD", cwd=self.work)

    def push(self) -> None:
        git("push", "-q", "origin", "HEAD:main", cwd=self.work, env=self.env)


@pytest.fixture()
def gitops(tmp_path: Path) -> Iterator[GitOpsRepo]:
    root = tmp_path / "forge"
    root.mkdir()
    make_remote(root, SEED, name=REPO)
    with GitHttpServer(root, token=TOKEN) as server:
        env = askpass_env(tmp_path, TOKEN)
        work = clone(server.repo_url(REPO), tmp_path / "work", env=env)
        yield GitOpsRepo(server, work, env)


def make_agent(kubeconfig: Path, repo: GitOpsRepo, tmp_path: Path, **app: object) -> Agent:
    """An agent following clusters/prod of `repo` (app "shop"); `app` overrides AppSettings fields."""
    fields: dict[str, object] = {"name": "shop", "repo": repo.url, "path": "clusters/prod", "token_env": "GIT_TOKEN",
                                 "interval": 0.2, **app}
    settings = AgentSettings(apps=(AppSettings(**fields),), cluster="prod",  # type: ignore[arg-type]
                             cache_dir=tmp_path / "cache", kubeconfig=kubeconfig)
    client = KubeClient(load_config(kubeconfig=kubeconfig, context=None, env={}))
    return Agent(settings, client, env={"GIT_TOKEN": TOKEN})


def agent_namespace(kube: KubeApiServer) -> None:
    kube.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "updater-system"}})


def image_of(kube: KubeApiServer, name: str = "api") -> str | None:
    obj = kube.get("apps/v1", "Deployment", name, "shop")
    return obj["spec"]["template"]["spec"]["containers"][0]["image"] if obj else None
