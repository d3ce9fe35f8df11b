"""The agent end to end on a repository holding a sops-encrypted Secret: it lands decrypted in the
emulated cluster; a tampered file stops the pass with nothing applied; the plaintext shows up in no
log line, diff, Event, inventory, metric or error."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from pyrage import x25519  # type: ignore[import-untyped]

from tests.agent.conftest import TOKEN, GitOpsRepo, agent_namespace, deployment, image_of, make_agent
from tests.agent.sops_helper import encrypt
from updater.agent import sops
from updater.cli import main
from updater_sandbox.kube.server import KubeApiServer

PLAINTEXT = "s3cr3t-db-passw0rd-91"
SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"}, "type": "Opaque",
          "stringData": {"password": PLAINTEXT}}
FORMS = (PLAINTEXT, base64.b64encode(PLAINTEXT.encode()).decode())


@pytest.fixture()
def key_file(tmp_path: Path) -> tuple[Path, str]:
    identity = x25519.Identity.generate()
    path = tmp_path / "keys" / "age.agekey"  # outside the repository, as a mounted Secret would be
    path.parent.mkdir()
    path.write_text(f"# public key: {identity.to_public()}\n{identity}\n")
    return path, str(identity.to_public())


def args(gitops: GitOpsRepo, kubeconfig: Path, tmp_path: Path, *extra: str) -> list[str]:
    return ["-vv", "agent", "--repo", gitops.url, "--path", "clusters/prod", "--name", "shop", "--token-env",
            "GIT_TOKEN", "--kubeconfig", str(kubeconfig), "--cache-dir", str(tmp_path / "cache"), *extra]


def cluster_text(kube: KubeApiServer) -> str:
    """Everything the agent writes about itself: Events and inventories."""
    return json.dumps([kube.list("v1", "Event", "updater-system"), kube.list("v1", "ConfigMap", "updater-system")])


def test_encrypted_secret_lands_decrypted_and_plaintext_is_never_printed(
        kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path, key_file: tuple[Path, str],
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_TOKEN", TOKEN)
    agent_namespace(kube_api)
    path, recipient = key_file
    gitops.commit({"clusters/prod/db-secret.yaml": encrypt(SECRET, recipient,
                                                           rules={"encrypted_regex": "^(data|stringData)$"})}, "db")
    keyed = ("--age-key-file", str(path))

    assert main(args(gitops, kubeconfig, tmp_path, "--dry-run", *keyed)) == 8
    dry = capsys.readouterr()
    assert "# create Secret shop/db (app shop)" in dry.out and "+  password: '*** (after)'" in dry.out

    assert main(args(gitops, kubeconfig, tmp_path, "--once", *keyed)) == 0
    stored = kube_api.get("v1", "Secret", "db", "shop")
    assert stored is not None and base64.b64decode(stored["data"]["password"]).decode() == PLAINTEXT
    assert image_of(kube_api) == "ghcr.io/acme/api:1.0.0"
    synced = capsys.readouterr()

    # tampered (a clear value edited without sops) together with an image bump: nothing is applied
    tampered = (gitops.work / "clusters/prod/db-secret.yaml").read_text().replace("type: Opaque", "type: Other")
    gitops.commit({"clusters/prod/db-secret.yaml": tampered,
                   "clusters/prod/api/deployment.yaml": deployment("ghcr.io/acme/api:2.0.0")}, "tamper")
    assert main(args(gitops, kubeconfig, tmp_path, "--once", *keyed)) == 5
    failed = capsys.readouterr()
    assert "clusters/prod/db-secret.yaml: MAC mismatch" in failed.err
    assert image_of(kube_api) == "ghcr.io/acme/api:1.0.0"
    assert kube_api.get("v1", "Secret", "db", "shop")["type"] == "Opaque"  # type: ignore[index]

    printed = dry.out + dry.err + synced.out + synced.err + failed.out + failed.err  # -vv: debug logs are on stderr
    assert " DEBUG " in synced.err and "app shop" in synced.err
    for form in FORMS:
        assert form not in printed and form not in cluster_text(kube_api)


def test_without_a_key_the_app_stops_and_the_error_says_where_keys_come_from(
        kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path, key_file: tuple[Path, str],
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_TOKEN", TOKEN)
    agent_namespace(kube_api)
    gitops.commit({"clusters/prod/db-secret.yaml": encrypt(SECRET, key_file[1])}, "db")
    assert main(args(gitops, kubeconfig, tmp_path, "--once")) == 5
    assert "--age-key-file, SOPS_AGE_KEY_FILE or SOPS_AGE_KEY" in capsys.readouterr().err
    assert image_of(kube_api) is None  # the whole app's pass stopped

    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key_file[0]))  # sops' own variable works too
    assert main(args(gitops, kubeconfig, tmp_path, "--once")) == 0
    assert kube_api.get("v1", "Secret", "db", "shop") is not None


def test_metrics_and_status_of_a_sops_app_hold_no_plaintext(kube_api: KubeApiServer, kubeconfig: Path,
                                                              gitops: GitOpsRepo, tmp_path: Path,
                                                              key_file: tuple[Path, str]) -> None:
    agent_namespace(kube_api)
    gitops.commit({"clusters/prod/db-secret.yaml": encrypt(SECRET, key_file[1],
                                                           rules={"encrypted_regex": "^stringData$"})}, "db")
    agent = make_agent(kubeconfig, gitops, tmp_path)
    from dataclasses import replace
    agent.settings = replace(agent.settings, sops_identities=sops.parse_identities(
        [("key", key_file[0].read_text())]))
    agent._desired["shop"] = type(agent._desired["shop"])(
        app="shop", path="clusters/prod", default_namespace="default", resolve=agent.client.resource,
        identities=agent.settings.sops_identities)
    status = agent.sync_app(agent.settings.apps[0])
    assert not status.errors and any("Secret" in a for a in status.applied)
    stored = kube_api.get("v1", "Secret", "db", "shop")
    assert stored is not None and base64.b64decode(stored["data"]["password"]).decode() == PLAINTEXT
    assert all(form not in agent.metrics.render() + repr(status) for form in FORMS)
