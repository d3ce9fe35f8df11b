"""The agent on public repositories' manifest trees (vendored under tests/data/real_trees/, see its
PROVENANCE.md): Kustomize and plain YAML with HPAs, PDBs, NetworkPolicies, RBAC, a ResourceQuota, a CRD
and its custom resource. For each tree: the first sync applies every object, a second sync writes
nothing, and the real kubectl's `diff --server-side` of the tree against the emulator shows nothing.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.agent.conftest import REPO, TOKEN, GitOpsRepo, agent_namespace, make_agent
from tests.gitrepos import askpass_env, clone, make_remote
from tests.sandbox.replay import provenance_mismatches
from updater.proc import Result
from updater_sandbox.git_http import GitHttpServer
from updater_sandbox.kube.server import KubeApiServer

TREES = Path(__file__).resolve().parents[1] / "data" / "real_trees"
WRITES = ("create", "update", "patch", "delete", "deletecollection")
Kubectl = Callable[..., Result]


@dataclass(frozen=True)
class Tree:
    name: str
    objects: int  # what the first sync applies
    kustomize: bool = False
    namespace: str | None = "demo"  # for kubectl diff: the app's namespace, unless the tree names its own


CASES = [
    Tree("podinfo-kustomize", 3, kustomize=True),  # Deployment, Service, HPA (autoscaling/v2)
    Tree("podinfo-webapp", 11, namespace=None),  # Namespace, 2 ServiceAccounts, Role, RoleBinding, 2 Deployments/Services/HPAs
    Tree("microservices-demo", 6, kustomize=True),  # Deployment, 2 Services, ServiceAccount, 2 NetworkPolicies
    Tree("sample-controller", 2),  # a CustomResourceDefinition and a custom resource of it
    Tree("kubernetes-website-policy", 2),  # PodDisruptionBudget, ResourceQuota (JSON-style YAML)
]


@pytest.fixture()
def tree_repo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GitOpsRepo]:
    tree: Tree = request.param
    files = {f"clusters/prod/{p.relative_to(TREES / tree.name)}": p.read_text()
             for p in sorted((TREES / tree.name).rglob("*")) if p.is_file()}
    root = tmp_path / "forge"
    root.mkdir()
    make_remote(root, files, name=REPO)
    with GitHttpServer(root, token=TOKEN) as server:
        env = askpass_env(tmp_path, TOKEN)
        yield GitOpsRepo(server, clone(server.repo_url(REPO), tmp_path / "work", env=env), env)


def _writes(kube: KubeApiServer) -> list[str]:
    """Writes to anything but the agent's own bookkeeping (inventory ConfigMap, Events, Lease)."""
    return [f"{r.method} {r.path}" for r in kube.requests
            if r.operation.verb in WRITES and r.operation.namespace != "updater-system"]


@pytest.mark.parametrize("tree_repo", CASES, ids=[t.name for t in CASES], indirect=True)
def test_agent_applies_a_real_tree_then_writes_nothing(tree_repo: GitOpsRepo, kube_api: KubeApiServer,
                                                        kubeconfig: Path, kubectl: Kubectl, tmp_path: Path,
                                                        request: pytest.FixtureRequest) -> None:
    tree = next(t for t in CASES if t.name in request.node.name)
    agent_namespace(kube_api)
    kube_api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}})
    agent = make_agent(kubeconfig, tree_repo, tmp_path, namespace="demo")
    app = agent.settings.apps[0]

    first = agent.sync_app(app)
    assert first.errors == () and first.sync == "Synced", first
    assert len(first.applied) == tree.objects, first.applied

    kube_api.clear_log()
    second = agent.sync_app(app)
    assert second.errors == () and second.sync == "Synced" and second.applied == (), second
    assert _writes(kube_api) == []

    source = tree_repo.work / "clusters" / "prod"
    if tree.kustomize:
        rendered = kubectl("kustomize", str(source))
        assert rendered.returncode == 0, rendered.err
        manifest = tmp_path / "rendered.yaml"
        manifest.write_bytes(rendered.stdout)
        args = ["-f", str(manifest)]
    else:
        plain = tmp_path / "plain"
        shutil.copytree(source, plain)
        args = ["-R", "-f", str(plain)]
    where = ["-n", tree.namespace] if tree.namespace else []
    diff = kubectl("diff", "--server-side", "--force-conflicts", *where, *args)
    assert diff.returncode == 0 and diff.out == "", diff.out + diff.err


def test_trees_are_the_ones_provenance_names() -> None:
    assert provenance_mismatches(TREES) == []
    assert len([p for p in TREES.rglob("*") if p.is_file()]) - 1 == 21
