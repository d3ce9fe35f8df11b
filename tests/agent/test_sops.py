"""sops decryption against files the real sops wrote (tests/data/sops, see PROVENANCE.md), tampering,
identities, and the metadata rules on files shaped by `tests.agent.sops_helper`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyrage import x25519  # type: ignore[import-untyped]

from tests.agent.sops_helper import encrypt
from updater.agent import sops
from updater.agent.sops.metadata import go_rfc3339
from updater.agent.sops.values import mac_bytes
from updater.agent.sops.yamltree import resolve_plain

DATA = Path(__file__).parent.parent / "data" / "sops"


def identities(name: str) -> sops.Identities:
    return sops.parse_identities([(name, (DATA / name).read_text())])


def read(name: str) -> str:
    return (DATA / name).read_text()


FLUX = identities("flux-age.txt")


def test_sops_example_yaml_decrypts_with_each_published_key_and_keeps_unencrypted_suffix_values() -> None:
    text = read("example.yaml")
    for line in [x for x in read("sops-keys.txt").splitlines() if x.startswith("AGE-SECRET-KEY-")]:
        [doc] = sops.decrypt_text(text, sops.parse_identities([("key", line)]), source="example.yaml")
        assert doc["app2"]["db"] == {"user": "eve", "password": "c4r1b0u"}
        assert doc["an_array"][:2] == ["secretuser1", "secretuser2"]
        assert doc["somebooleans"] == [True, False] and isinstance(doc["number"], float)
        # the default unencrypted_suffix: these stayed clear text in the file and are unchanged
        assert doc["somelist_unencrypted"][0] == "all elements of this list"
        assert doc["nested_unencrypted"] == {"this": {"is": {"all": "going to remain in clear text"}}}
        assert "sops" not in doc


def test_sops_example_json_matches_what_sops_own_example_test_checks() -> None:
    [doc] = sops.decrypt_text(read("example.json"), identities("sops-keys.txt"), source="example.json",
                              json_format=True)
    assert (doc["firstName"], doc["lastName"], doc["age"]) == ("John", "Smith", 25.4)
    assert doc["phoneNumbers"][1]["number"] == "646 555-4567" and doc["anEmptyValue"] == ""


@pytest.mark.parametrize(("name", "key", "value"), [("flux-secret-age.yaml", "flux-age.txt", "value"),
                                                    ("flux-secret-global.yaml", "flux-age-global.txt", "global-value")])
def test_kubernetes_secrets_encrypted_with_encrypted_regex_decrypt_to_secrets(name: str, key: str, value: str) -> None:
    [doc] = sops.decrypt_text(read(name), identities(key), source=name)
    assert doc["kind"] == "Secret" and doc["apiVersion"] == "v1"
    assert doc["stringData"] == {"key": value}
    assert "sops" not in doc and not any("ENC[" in str(v) for v in doc["metadata"].values())


@pytest.mark.parametrize("edit", [
    lambda t: t.replace("name: age", "name: age2"),  # a clear-text value: only the MAC sees it
    lambda t: t.replace("data:mHeXsmQ=", "data:nHeXsmQ="),  # an encrypted value: AES-GCM fails
    lambda t: t.replace("mac: ENC[AES256_GCM,data:vmrF", "mac: ENC[AES256_GCM,data:vmrG"),  # the MAC itself
    lambda t: t.replace('lastmodified: "2024-11-12T13:33:42Z"', 'lastmodified: "2024-11-12T13:33:43Z"'),
    lambda t: t.replace("  key: ENC", "  other: ENC"),  # a value moved to another key (its AAD)
    lambda t: t.replace("kind: Secret\n", "kind: Secret\ntype: Opaque\n"),  # a clear-text value added
])
def test_tampering_is_a_mac_error(edit: object) -> None:
    original = read("flux-secret-age.yaml")
    changed = edit(original)  # type: ignore[operator]
    assert changed != original
    with pytest.raises(sops.MacMismatch) as caught:
        sops.decrypt_text(changed, FLUX, source="secret.yaml")
    assert str(caught.value).startswith("secret.yaml: ")


def test_swapping_two_encrypted_values_fails_authentication() -> None:
    lines = read("example.yaml").splitlines()
    user = next(i for i, line in enumerate(lines) if line.strip().startswith("user: ENC"))
    pw = user + 1
    lines[user], lines[pw] = (lines[user].replace(lines[user].split(": ", 1)[1], lines[pw].split(": ", 1)[1]),
                              lines[pw].replace(lines[pw].split(": ", 1)[1], lines[user].split(": ", 1)[1]))
    with pytest.raises(sops.MacMismatch, match="app2.db"):
        sops.decrypt_text("\n".join(lines), identities("sops-keys.txt"), source="example.yaml")


def test_a_missing_mac_is_refused() -> None:
    text = "\n".join(line for line in read("flux-secret-age.yaml").splitlines() if not line.startswith("  mac:"))
    with pytest.raises(sops.MacMismatch, match="no sops MAC"):
        sops.decrypt_text(text, FLUX, source="s.yaml")


def test_wrong_identity_names_both_sides_recipients_and_never_the_secret_key() -> None:
    other = x25519.Identity.generate()
    ids = sops.parse_identities([("key", str(other))])
    with pytest.raises(sops.NoMatchingIdentity) as caught:
        sops.decrypt_text(read("flux-secret-age.yaml"), ids, source="secret.yaml")
    message = str(caught.value)
    assert "age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29" in message
    assert str(other.to_public()) in message and "AGE-SECRET-KEY" not in message
    assert "AGE-SECRET-KEY" not in repr(ids)
    with pytest.raises(sops.NoMatchingIdentity, match="--age-key-file"):
        sops.decrypt_text(read("flux-secret-age.yaml"), sops.NO_IDENTITIES, source="secret.yaml")


def test_a_bad_identity_line_is_named_without_being_echoed() -> None:
    with pytest.raises(sops.BadIdentity) as caught:
        sops.parse_identities([("SOPS_AGE_KEY", "# ok\nAGE-SECRET-KEY-1NOTAKEYATALLXYZ\n")])
    assert "SOPS_AGE_KEY: line 2" in str(caught.value) and "NOTAKEY" not in str(caught.value)


@pytest.fixture(scope="module")
def mine() -> tuple[sops.Identities, str]:
    identity = x25519.Identity.generate()
    return sops.parse_identities([("test", str(identity))]), str(identity.to_public())


SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "labels": {"tier_unencrypted": "x"}},
          "type": "Opaque", "stringData": {"password": "hunter2-plaintext", "port": 5432, "tls": True}}


@pytest.mark.parametrize(("rules", "clear", "hidden"), [
    ({"encrypted_regex": "^(data|stringData)$"}, ["apiVersion", "kind", "metadata", "type"], ["stringData"]),
    ({"unencrypted_regex": "^(apiVersion|kind|metadata|type)$"}, ["apiVersion", "kind", "metadata", "type"], ["stringData"]),
    ({"encrypted_suffix": "Data"}, ["apiVersion", "kind", "metadata", "type"], ["stringData"]),
    ({}, [], ["apiVersion", "kind", "type", "stringData"]),  # default: everything but *_unencrypted keys
])
def test_rules_decide_what_is_encrypted_as_sops_defines(mine: tuple[sops.Identities, str], rules: dict[str, str],
                                                        clear: list[str], hidden: list[str]) -> None:
    ids, recipient = mine
    text = encrypt(SECRET, recipient, rules=rules)
    raw = sops.carries_sops  # the file as written: clear keys readable, hidden ones ENC[...]
    import yaml
    written = yaml.safe_load(text)
    assert raw(written)
    for key in clear:
        assert "ENC[" not in json.dumps(written[key])
    for key in hidden:
        assert "ENC[" in json.dumps(written[key])
    assert written["metadata"]["labels"]["tier_unencrypted"] == "x"  # the default suffix keeps this clear
    [doc] = sops.decrypt_text(text, ids, source="db.yaml")
    assert doc == SECRET


def test_encrypted_regex_refuses_a_clear_value_where_an_encrypted_one_belongs(mine: tuple[sops.Identities, str]) -> None:
    ids, recipient = mine
    text = encrypt(SECRET, recipient, rules={"encrypted_regex": "^stringData$"})
    import yaml
    written = yaml.safe_load(text)
    written["stringData"]["password"] = "swapped-in-clear"
    with pytest.raises(sops.MalformedSopsFile, match="stringData.password"):
        sops.decrypt_text(yaml.safe_dump(written, sort_keys=False), ids, source="db.yaml")


def test_mac_only_encrypted_lets_clear_values_change_but_not_encrypted_ones(mine: tuple[sops.Identities, str]) -> None:
    ids, recipient = mine
    rules = {"encrypted_regex": "^(data|stringData)$"}
    relabelled = {**SECRET, "metadata": {"name": "db", "namespace": "shop"}}
    strict = encrypt(SECRET, recipient, rules=rules).replace("  labels:\n    tier_unencrypted: x\n", "  namespace: shop\n")
    with pytest.raises(sops.MacMismatch):
        sops.decrypt_text(strict, ids, source="db.yaml")
    loose = encrypt(SECRET, recipient, rules=rules, mac_only_encrypted=True)
    loose = loose.replace("  labels:\n    tier_unencrypted: x\n", "  namespace: shop\n")
    [doc] = sops.decrypt_text(loose, ids, source="db.yaml")
    assert doc == relabelled
    import yaml
    written = yaml.safe_load(loose)
    del written["stringData"]["tls"]  # dropping an encrypted value still breaks the MAC
    with pytest.raises(sops.MacMismatch):
        sops.decrypt_text(yaml.safe_dump(written, sort_keys=False), ids, source="db.yaml")


def test_clear_values_are_typed_as_go_yaml_v3_does(mine: tuple[sops.Identities, str]) -> None:
    ids, recipient = mine
    doc = {"kind": "ConfigMap", "enabled": "yes", "when": "2026-01-02", "mode": 493, "stringData": {"a": "b"}}
    text = encrypt(doc, recipient, rules={"encrypted_regex": "^stringData$"})
    text = text.replace("enabled: 'yes'", "enabled: yes").replace("when: '2026-01-02'", "when: 2026-01-02")
    text = text.replace("mode: 493", "mode: 0o755")
    assert "enabled: yes\n" in text and "when: 2026-01-02\n" in text
    [out] = sops.decrypt_text(text, ids, source="cm.yaml")  # the MAC hashed "yes", "2026-01-02", "493"
    assert out == doc


def test_json_files_decrypt_in_key_order(mine: tuple[sops.Identities, str]) -> None:
    ids, recipient = mine
    text = encrypt(SECRET, recipient, rules={"encrypted_regex": "^stringData$"}, as_json=True)
    assert sops.decrypt_text(text, ids, source="db.json", json_format=True) == [SECRET]
    shuffled = json.loads(text)
    shuffled["stringData"] = dict(reversed(list(shuffled["stringData"].items())))
    with pytest.raises(sops.MacMismatch):  # the MAC covers the order of values
        sops.decrypt_text(json.dumps(shuffled), ids, source="db.json", json_format=True)


@pytest.mark.parametrize(("extra", "error", "match"), [
    ("  encrypted_comment_regex: sops:enc\n", sops.UnsupportedSopsFile, "encrypted_comment_regex"),
    ("  unencrypted_suffix: _clear\n", sops.MalformedSopsFile, "only one"),
    ("  key_groups: [{age: []}, {age: []}]\n", None, None),  # top-level keys win over key_groups, as in sops
])
def test_metadata_rules_sops_refuses_or_the_agent_does_not_support(extra: str, error: type[Exception] | None,
                                                                   match: str | None) -> None:
    text = read("flux-secret-age.yaml") + extra
    if error is None:
        assert sops.decrypt_text(text, FLUX, source="s.yaml")[0]["stringData"] == {"key": "value"}
    else:
        with pytest.raises(error, match=match):
            sops.decrypt_text(text, FLUX, source="s.yaml")


def test_shamir_key_groups_are_refused_clearly() -> None:
    text = read("flux-secret-age.yaml").replace("  age:\n", "  key_groups:\n    - age: []\n    - age: []\n  ignored:\n")
    with pytest.raises(sops.UnsupportedSopsFile, match="Shamir"):
        sops.decrypt_text(text, FLUX, source="s.yaml")


def test_go_spellings() -> None:
    assert go_rfc3339("2024-11-12T13:33:42.123456+00:00", source="x") == "2024-11-12T13:33:42Z"
    assert go_rfc3339("2024-11-12T13:33:42+02:00", source="x") == "2024-11-12T13:33:42+02:00"
    with pytest.raises(sops.MalformedSopsFile):
        go_rfc3339("2024-11-12 13:33", source="x")
    assert [mac_bytes(v, where="x") for v in (1e21, 1234.5, 1.0, True, 25)] == [
        b"1000000000000000000000", b"1234.5", b"1", b"True", b"25"]
    assert [resolve_plain(v) for v in ("yes", "on", "0755", "0o17", "0x1F", "1_000", "09", "~", ".5", "2026-01-02")] == [
        "yes", "on", 493, 15, 31, 1000, 9.0, None, 0.5, "2026-01-02"]


def test_identities_come_from_flags_files_and_sops_variables_never_printed(tmp_path: Path) -> None:
    from updater.agent.settings import build_settings
    from updater.agent.sops.sources import load_identities

    key = tmp_path / "age.agekey"
    key.write_text(read("flux-age.txt"))
    settings = build_settings({}, config={"apps": [{"repo": "file:///r"}],
                                                             "age_key_files": [str(key)]})
    assert settings.age_key_files == (key,)
    ids = load_identities(settings.age_key_files, {"SOPS_AGE_KEY": read("flux-age-global.txt")})
    assert len(ids.recipients) == 2 and "AGE-SECRET-KEY" not in repr(ids) + repr(settings)
    assert sops.decrypt_text(read("flux-secret-global.yaml"), ids, source="s")[0]["stringData"]["key"] == "global-value"
    with pytest.raises(sops.BadIdentity, match=r"^--age-key-file .*missing.agekey: cannot read"):
        load_identities([tmp_path / "missing.agekey"], {})
    with pytest.raises(sops.BadIdentity, match=r"^SOPS_AGE_KEY_FILE .*: holds no age identity"):
        (tmp_path / "empty").write_text("# nothing\n")
        load_identities([], {"SOPS_AGE_KEY_FILE": str(tmp_path / "empty")})
    assert not load_identities([], {})
    from updater.secrets import mask
    secret_line = next(x for x in read("flux-age.txt").splitlines() if x.startswith("AGE-SECRET-KEY-"))
    assert mask(f"oops {secret_line}") == "oops ***"  # registered for masking as soon as it is loaded
