"""The local paths a kustomization names (remote ones are not part of the checkout)."""

from __future__ import annotations

from updater.manifests.kustomization import local_references


def test_every_path_field_is_read() -> None:
    text = """
resources:
- deploy.yaml
- ../../base
- https://github.com/acme/x//deploy?ref=v1
- github.com/acme/y/base?ref=main
bases: [../old]
components: [../../components/tls]
patches:
- path: patch.yaml
- patch: |-
    - op: replace
patchesStrategicMerge:
- sm.yaml
patchesJson6902:
- path: json.yaml
configMapGenerator:
- name: c
  files: [config.json, key=other.txt]
  envs: [a.env]
secretGenerator:
- name: s
  env: s.env
replacements:
- path: repl.yaml
openapi:
  path: schema.json
crds: [crd.yaml]
"""
    assert local_references(text) == [
        "deploy.yaml", "../../base", "../old", "../../components/tls", "crd.yaml", "sm.yaml", "patch.yaml",
        "json.yaml", "repl.yaml", "config.json", "other.txt", "a.env", "s.env", "schema.json",
    ]


def test_not_yaml_or_not_a_mapping_names_nothing() -> None:
    assert local_references("{{ bad") == [] and local_references("- a\n") == [] and local_references("") == []
