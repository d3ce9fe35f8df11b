"""Issue 11, class 4 (agent side): rendering reads nothing outside the checkout.

The agent applied objects from a symlinked directory and from kustomize `resources: [../../<outside>]`.
Symlinks leading out are refused, every kustomize input must resolve inside the checkout, and
remote resources need the operator's `kustomize_remote`. Real kustomize (kubectl's) builds."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agent.conftest import GitOpsRepo, agent_namespace, gitops, make_agent  # noqa: F401 (fixture)
from tests.gitrepos import write_tree
from updater.agent.confine import Escape, check_kustomization
from updater.agent.render import RenderError, render_tree
from updater_sandbox.kube.server import KubeApiServer

SECRET_CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stolen\n  namespace: shop\ndata:\n  a: b\n"
LOCAL_CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: local\n  namespace: shop\ndata:\n  a: b\n"


@pytest.fixture()
def trees(tmp_path: Path) -> tuple[Path, Path]:
    """(checkout, a directory outside it holding a kustomization and a secret file)."""
    outside, checkout = tmp_path / "outside", tmp_path / "checkout"
    write_tree(outside, {"kustomization.yaml": "resources: [cm.yaml]\n", "cm.yaml": SECRET_CM,
                         "secret.txt": "root-password\n"})
    checkout.mkdir()
    return checkout, outside


def test_a_symlinked_kustomization_directory_leading_out_is_refused(trees: tuple[Path, Path]) -> None:
    checkout, outside = trees
    write_tree(checkout, {"apps/local.yaml": LOCAL_CM})
    (checkout / "apps" / "linked").symlink_to(outside, target_is_directory=True)
    with pytest.raises(RenderError, match="leave"):
        render_tree(checkout, "apps")


def test_a_symlinked_plain_directory_leading_out_is_refused(trees: tuple[Path, Path], tmp_path: Path) -> None:
    checkout, _ = trees
    write_tree(tmp_path / "plain", {"cm.yaml": SECRET_CM})
    write_tree(checkout, {"apps/local.yaml": LOCAL_CM})
    (checkout / "apps" / "linked").symlink_to(tmp_path / "plain", target_is_directory=True)
    with pytest.raises(RenderError, match="leaves the repository"):
        render_tree(checkout, "apps")


def test_kustomize_resources_outside_the_checkout_are_refused(trees: tuple[Path, Path]) -> None:
    checkout, _ = trees
    write_tree(checkout, {"apps/prod/kustomization.yaml": "resources: [../../../outside]\n"})
    with pytest.raises(RenderError, match=r"'\.\./\.\./\.\./outside'.* leads out of the repository"):
        render_tree(checkout, "apps/prod")


def test_bases_inside_the_checkout_still_build(trees: tuple[Path, Path]) -> None:
    checkout, _ = trees
    write_tree(checkout, {"base/kustomization.yaml": "resources: [cm.yaml]\n", "base/cm.yaml": LOCAL_CM,
                          "overlays/prod/kustomization.yaml": "resources: [../../base]\nnamePrefix: prod-\n"})
    rendered = render_tree(checkout, "overlays/prod")
    assert [o["metadata"]["name"] for o in rendered.objects] == ["prod-local"]


def test_a_generator_file_symlinked_out_is_refused(trees: tuple[Path, Path]) -> None:
    checkout, outside = trees
    write_tree(checkout, {"apps/kustomization.yaml":
                          "configMapGenerator:\n- name: leak\n  namespace: shop\n  files: [pw=secret.txt]\n"})
    (checkout / "apps" / "secret.txt").symlink_to(outside / "secret.txt")
    with pytest.raises(RenderError, match="'secret.txt' leads out of the repository"):
        render_tree(checkout, "apps")


def test_a_nested_base_escaping_is_refused(trees: tuple[Path, Path]) -> None:
    checkout, _ = trees
    write_tree(checkout, {"base/kustomization.yaml": "resources: [../../outside]\n",
                          "overlays/prod/kustomization.yaml": "resources: [../../base]\n"})
    with pytest.raises(RenderError, match="base/kustomization.yaml: '../../outside'"):
        render_tree(checkout, "overlays/prod")


@pytest.mark.parametrize("remote", ["https://github.com/acme/manifests//base?ref=v1",
                                    "github.com/acme/manifests/base?ref=v1",
                                    "git@github.com:acme/manifests.git//base",
                                    "http://127.0.0.1:9/cm.yaml"])
def test_remote_resources_are_off_unless_the_operator_allows_them(trees: tuple[Path, Path], remote: str) -> None:
    checkout, _ = trees
    write_tree(checkout, {"apps/kustomization.yaml": f"resources:\n- cm.yaml\n- {remote}\n", "apps/cm.yaml": LOCAL_CM})
    with pytest.raises(RenderError, match="remote resource .* refused .*kustomize_remote"):
        render_tree(checkout, "apps")
    check_kustomization(checkout, checkout / "apps", allow_remote=True)  # allowed: left to kustomize
    with pytest.raises(Escape):
        check_kustomization(checkout, checkout / "apps", allow_remote=False)


def test_the_agent_applies_nothing_from_outside(kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo,
                                                tmp_path: Path) -> None:
    """End to end: a kustomization in the repository reaching for a directory beside the checkout."""
    agent_namespace(kube_api)
    write_tree(tmp_path / "cache" / "shop", {"loot/kustomization.yaml": "resources: [cm.yaml]\n",
                                             "loot/cm.yaml": SECRET_CM})
    gitops.commit({"clusters/prod/kustomization.yaml": "resources: [namespace.yaml, ../../../loot]\n"}, "escape")
    agent = make_agent(kubeconfig, gitops, tmp_path)
    status = agent.sync_app(agent.settings.apps[0])
    assert status.health == "Degraded" and "leads out of the repository" in status.errors[0]
    assert kube_api.get("v1", "ConfigMap", "stolen", "shop") is None
    assert kube_api.get("v1", "Namespace", "shop") is None  # nothing of the app was applied
