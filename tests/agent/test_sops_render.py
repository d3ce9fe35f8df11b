"""sops files in the agent's rendering: plain trees decrypt per file, Kustomize trees after the build
(the source file verified whole, the built values authenticated one by one), never on disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pyrage import x25519  # type: ignore[import-untyped]

from tests.agent.sops_helper import encrypt
from tests.gitrepos import write_tree
from updater.agent import sops
from updater.agent.render import ParseCache, render_tree

DATA = Path(__file__).parent.parent / "data" / "sops"
GLOBAL = sops.parse_identities([("key", (DATA / "flux-age-global.txt").read_text())])
SECRET_TEXT = (DATA / "flux-secret-global.yaml").read_text()  # keys not in kustomize's sorted order
KUSTOMIZATION = "namespace: shop\nnamePrefix: prod-\nlabels:\n- pairs: {team: pay}\nresources:\n- secret.yaml\n"


def secrets(tmp_path: Path, identities: sops.Identities) -> list[dict[str, Any]]:
    return [o for o in render_tree(tmp_path, "app", cache=ParseCache(identities)).objects if o["kind"] == "Secret"]


def no_file_holds(root: Path, plaintext: str) -> bool:
    return not any(plaintext.encode() in p.read_bytes() for p in root.rglob("*") if p.is_file())


def test_a_plain_tree_decrypts_sops_files_and_leaves_others_alone(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/secret.yaml": SECRET_TEXT,
                          "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {on: yes}\n"})
    rendered = render_tree(tmp_path, "app", cache=ParseCache(GLOBAL))
    by_kind = {o["kind"]: o for o in rendered.objects}
    assert by_kind["Secret"]["stringData"] == {"key": "global-value"} and "sops" not in by_kind["Secret"]
    assert by_kind["ConfigMap"]["data"] == {True: True}  # non-sops files keep the agent's YAML 1.1 loader


def test_a_plain_tree_without_identities_stops_with_the_flag_to_use(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/secret.yaml": SECRET_TEXT})
    with pytest.raises(sops.NoMatchingIdentity, match=r"app/secret.yaml: .*--age-key-file"):
        render_tree(tmp_path, "app", cache=ParseCache())


def test_kustomize_transforms_apply_to_the_decrypted_secret_and_plaintext_stays_off_disk(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/kustomization.yaml": KUSTOMIZATION, "app/secret.yaml": SECRET_TEXT})
    [secret] = secrets(tmp_path, GLOBAL)
    assert secret["stringData"] == {"key": "global-value"} and "sops" not in secret
    assert secret["metadata"] == {"name": "prod-global-age-secret", "namespace": "shop", "labels": {"team": "pay"}}
    assert no_file_holds(tmp_path, "global-value")


def test_kustomize_over_a_tampered_file_is_a_mac_error_naming_the_file(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/kustomization.yaml": KUSTOMIZATION,
                          "app/secret.yaml": SECRET_TEXT.replace("type: Opaque", "type: kubernetes.io/tls")})
    with pytest.raises(sops.MacMismatch, match=r"^app/secret.yaml: MAC mismatch"):
        secrets(tmp_path, GLOBAL)


def test_a_patch_of_the_sops_block_leaves_the_document_unverifiable(tmp_path: Path) -> None:
    patch = ("patches:\n- patch: |\n    - op: replace\n      path: /sops/lastmodified\n"
             "      value: '2030-01-01T00:00:00Z'\n  target: {kind: Secret}\n")
    write_tree(tmp_path, {"app/kustomization.yaml": KUSTOMIZATION + patch, "app/secret.yaml": SECRET_TEXT})
    with pytest.raises(sops.MacMismatch, match="no sops file in the repository carries"):
        secrets(tmp_path, GLOBAL)


def test_kustomize_adding_values_under_the_encryption_rules_is_refused_with_the_fix(tmp_path: Path) -> None:
    identity = x25519.Identity.generate()
    ids = sops.parse_identities([("key", str(identity))])
    doc = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "stringData": {"password": "pw-123456"}}
    write_tree(tmp_path, {"app/kustomization.yaml": KUSTOMIZATION,
                          "app/secret.yaml": encrypt(doc, str(identity.to_public()),  # namespace/labels: encrypted
                                                     rules={"unencrypted_regex": "^(apiVersion|kind|name)$"})})
    with pytest.raises(sops.MalformedSopsFile, match=r"--encrypted-regex"):
        secrets(tmp_path, ids)
    write_tree(tmp_path, {"app/secret.yaml": encrypt(doc, str(identity.to_public()),
                                                     rules={"encrypted_regex": "^(data|stringData)$"})})
    [secret] = secrets(tmp_path, ids)
    assert secret["stringData"] == {"password": "pw-123456"} and secret["metadata"]["namespace"] == "shop"


def test_documents_of_a_build_without_sops_keep_the_agents_own_typing() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: yes}\n---\n" + SECRET_TEXT
    from updater.agent.render import parse_documents
    rendered = parse_documents(text, source="app (kustomize)", identities=GLOBAL,
                               originals=lambda mac: [("app/secret.yaml", SECRET_TEXT.encode())])
    configmap, secret = rendered.objects
    assert configmap["data"] == {"a": True}  # as without sops (YAML 1.1, like the rest of the agent)
    assert secret["stringData"] == {"key": "global-value"}
