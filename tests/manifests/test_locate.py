"""Which values of a file are image references, and of what kind."""

from __future__ import annotations

from updater.manifests.locate import HelmSite, KustomizeSite, RefSite, TagSite, find_sites
from updater.manifests.yaml import parse_documents


def sites(text: str, path: str = "x.yaml") -> list[tuple[str, str]]:
    found, _ = find_sites(text, parse_documents(text), path=path)
    out = []
    for site in found:
        if isinstance(site, RefSite):
            out.append((site.kind, site.text))
        elif isinstance(site, TagSite):
            out.append((site.kind, f"{site.name}:{site.scalar.value}"))
        elif isinstance(site, KustomizeSite):
            out.append((site.kind, site.entry.scalar("name").value))  # type: ignore[union-attr]
        else:
            assert isinstance(site, HelmSite)
            out.append((site.kind, site.mapping.scalar(site.name_key).value))  # type: ignore[union-attr]
    return sorted(out)


def test_containers_in_any_object_at_any_depth() -> None:
    text = """
kind: SomethingCustom
spec:
  deep:
    er:
      initContainers: [{image: a:1}]
      containers:
      - image: b:1
      - name: no-image
      ephemeralContainers:
      - image: c:1
containers: not-a-list
"""
    assert sites(text) == [("container", "a:1"), ("container", "b:1"), ("container", "c:1")]


def test_kustomize_images_only_in_kustomization_files() -> None:
    text = "images:\n- name: a\n  newTag: '1'\n- newTag: no-name\n"
    assert sites(text, "app/kustomization.yaml") == [("kustomize", "a")]
    assert sites(text, "app/Kustomization") == [("kustomize", "a")]
    assert sites(text, "app/other.yaml") == []


def test_helm_values_only_in_values_files() -> None:
    text = "image:\n  repository: r\n  tag: t\nsidecar:\n  image: s:1\nonlyrepo:\n  repository: x\n"
    expected = [("helm", "r"), ("helm", "s:1")]
    assert sites(text, "chart/values.yaml") == expected
    assert sites(text, "values-prod.yml") == expected
    assert sites(text, "chart/defaults.yaml") == []


def test_helm_name_repo_and_image_beside_tag() -> None:
    text = """
image: {name: acme/a, tag: '1'}
sidecarImage: {repo: acme/b, tag: '2'}
controller: {image: acme/c, tag: v3, replicas: 2}
"""
    assert sites(text, "values.yaml") == [("helm", "acme/a"), ("helm", "acme/b"), ("helm", "acme/c")]
    found, _ = find_sites(text, parse_documents(text), path="values.yaml")
    assert sorted(s.name_key for s in found if isinstance(s, HelmSite)) == ["image", "name", "repo"]


def test_helm_spellings_keep_clear_of_look_alikes() -> None:
    text = """
serviceAccount: {name: acme/a, tag: '1'}
chart: {repo: acme/b, tag: '2'}
imageName: {name: acme/c, tag: '3'}
image: {names: acme/d, tag: '4'}
other: {image: {name: my release, tag: '5'}}
plain: {image: acme/e:1, tag: nightly}
tagless: {image: acme/f, tags: ['6']}
nottag: {image: {name: acme/g, tag: 'not a tag'}}
"""
    assert sites(text, "values.yaml") == [("helm", "acme/e:1"), ("helm", "acme/f")]


def test_flux_and_argo_resources_in_any_file() -> None:
    text = """
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
spec:
  values: {image: {repository: r1, tag: t}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
spec:
  images: [{name: k1, newTag: t}]
---
apiVersion: argoproj.io/v1alpha1
kind: Application
spec:
  source:
    helm: {valuesObject: {image: r2:1}}
  sources:
  - kustomize: {images: ["a3=r3:1", "r4:1"]}
---
apiVersion: example.com/v1
kind: HelmRelease
spec:
  values: {image: {repository: not-flux, tag: t}}
"""
    assert sites(text) == [
        ("argocd-kustomize", "r3:1"), ("argocd-kustomize", "r4:1"), ("helm", "r1"), ("helm", "r2:1"), ("kustomize", "k1"),
    ]


def test_list_items_are_objects() -> None:
    text = """
kind: List
items:
- apiVersion: helm.toolkit.fluxcd.io/v2beta2
  kind: HelmRelease
  spec: {values: {image: {repository: r, tag: t}}}
"""
    assert sites(text) == [("helm", "r")]


def test_markers_mark_the_value_before_them_on_their_line() -> None:
    text = """
env:
- name: IMG
  value: ghcr.io/acme/api:1 # updater:image=ghcr.io/acme/api
- {name: TAG, value: "1"}  #updater:tag=ghcr.io/acme/api
"""
    assert sites(text) == [("marker-image", "ghcr.io/acme/api:1"), ("marker-tag", "ghcr.io/acme/api:1")]


def test_marker_problems_are_warnings() -> None:
    text = "# updater:image=ghcr.io/acme/api\na: 1 # updater:tag=Not_Valid\n"
    found, warnings = find_sites(text, parse_documents(text), path="f.yaml")
    assert found == []
    assert len(warnings) == 2
    assert warnings[0].startswith("f.yaml:1: marker") and "no value before it" in warnings[0]
    assert warnings[1].startswith("f.yaml:2: marker")


def test_a_marker_wins_over_the_structural_kind_of_the_same_value() -> None:
    text = "containers:\n- image: x:1 # updater:image=ghcr.io/acme/api\n"
    assert sites(text) == [("marker-image", "x:1")]


def test_a_marker_never_marks_a_key() -> None:
    text = "a: &t x:1\nb: *t # updater:image=x\n"
    found, warnings = find_sites(text, parse_documents(text), path="f.yaml")
    assert found == [] and "no value before it" in warnings[0]
