"""Rendering: plain YAML trees (recursive, non-Kubernetes documents noted), Kustomize, and failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gitrepos import write_tree
from updater.agent.render import ParseCache, RenderError, parse_documents, render_tree

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
        image: ghcr.io/acme/api:1.0.0
"""
SERVICE = "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\nspec:\n  ports:\n  - port: 80\n"


def test_parse_documents_keeps_objects_expands_lists_and_notes_the_rest() -> None:
    text = f"{DEPLOY}---\n# only a comment\n---\nreplicaCount: 2\n---\napiVersion: v1\nkind: List\nitems:\n- {{apiVersion: v1, kind: ConfigMap, metadata: {{name: a}}}}\n"
    rendered = parse_documents(text, source="apps/all.yaml")
    assert [o["kind"] for o in rendered.objects] == ["Deployment", "ConfigMap"]
    assert rendered.notes == ("apps/all.yaml: document 3 ignored: not a Kubernetes object "
                              "(needs apiVersion, kind and metadata.name)",)


def test_invalid_yaml_fails_naming_the_file() -> None:
    with pytest.raises(RenderError, match=r"apps/bad.yaml: not valid YAML"):
        parse_documents("kind: [unclosed\n", source="apps/bad.yaml")


def test_plain_tree_is_read_recursively_in_file_order(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "clusters/prod/b/service.yaml": SERVICE,
        "clusters/prod/a/deploy.yml": DEPLOY,
        "clusters/prod/README.md": "# not yaml",
        "clusters/prod/.hidden/x.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: hidden}\n",
        "clusters/prod/values.yaml": "image: {tag: 1}\n",
        "clusters/staging/other.yaml": SERVICE.replace("name: api", "name: other"),
    })
    rendered = render_tree(tmp_path, "clusters/prod")
    assert [(o["kind"], o["metadata"]["name"]) for o in rendered.objects] == [("Deployment", "api"), ("Service", "api")]
    assert len(rendered.notes) == 1 and rendered.notes[0].startswith("clusters/prod/values.yaml: document 1 ignored")


def test_kustomization_directory_is_built(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "base/deploy.yaml": DEPLOY,
        "base/kustomization.yaml": "resources: [deploy.yaml]\n",
        "prod/kustomization.yaml": "resources: [../base]\nnamespace: prod\nimages:\n- name: ghcr.io/acme/api\n  newTag: 2.0.0\n",
    })
    rendered = render_tree(tmp_path, "prod")
    (deploy,) = rendered.objects
    assert deploy["metadata"]["namespace"] == "prod"
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/acme/api:2.0.0"


def test_kustomization_subdirectory_is_one_unit_in_a_plain_tree(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "apps/svc.yaml": SERVICE,
        "apps/api/deploy.yaml": DEPLOY,
        "apps/api/kustomization.yaml": "resources: [deploy.yaml]\nnamePrefix: k-\n",
    })
    names = [o["metadata"]["name"] for o in render_tree(tmp_path, "apps").objects]
    assert names == ["k-api", "api"]


def test_a_broken_kustomization_fails_the_whole_render(tmp_path: Path) -> None:
    write_tree(tmp_path, {"apps/svc.yaml": SERVICE, "apps/k/kustomization.yaml": "resources: [missing.yaml]\n"})
    with pytest.raises(RenderError, match=r"apps/k \(kustomize\): kustomize build"):
        render_tree(tmp_path, "apps")


def test_same_object_twice_is_an_error(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.yaml": SERVICE, "b.yaml": SERVICE})
    with pytest.raises(RenderError, match="Service api is declared twice"):
        render_tree(tmp_path, ".")


@pytest.mark.parametrize("path", ["../outside", "/etc", "missing"])
def test_paths_outside_the_checkout_or_missing_are_refused(tmp_path: Path, path: str) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "outside").mkdir()
    with pytest.raises(RenderError, match="leaves the repository|does not exist"):
        render_tree(tmp_path / "repo", path)


def test_parse_cache_reparses_only_changed_files(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.yaml": SERVICE, "b.yaml": DEPLOY})
    cache = ParseCache()
    first = render_tree(tmp_path, ".", cache=cache)
    write_tree(tmp_path, {"b.yaml": DEPLOY.replace("1.0.0", "1.1.0")})
    second = render_tree(tmp_path, ".", cache=cache)
    assert second.objects[0] is first.objects[0]  # a.yaml unchanged: not parsed again
    assert second.objects[1] is not first.objects[1]
    assert second.objects[1]["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/acme/api:1.1.0"


def test_symlinks_out_of_the_repository_are_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.yaml").write_text(SERVICE)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "link.yaml").symlink_to(tmp_path / "secret.yaml")
    with pytest.raises(RenderError, match="leaves the repository"):
        render_tree(repo, ".")
