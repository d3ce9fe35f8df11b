"""Kubeconfig loading (contexts, token files, certificate data) and discovery against the emulator."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from updater.agent.client import KubeClient, load_config
from updater.errors import BadInput
from updater_sandbox.kube.server import KubeApiServer
from updater.secrets import mask

KUBECONFIG = """\
apiVersion: v1
kind: Config
current-context: dev
contexts:
- name: dev
  context: {cluster: dev, user: dev, namespace: team}
- name: prod
  context: {cluster: prod, user: prod}
clusters:
- name: dev
  cluster: {server: "https://dev.example:6443/", certificate-authority-data: "%(ca)s"}
- name: prod
  cluster: {server: "https://prod.example:6443", insecure-skip-tls-verify: true}
users:
- name: dev
  user: {token: dev-token-abcdef}
- name: prod
  user: {tokenFile: prod-token, client-certificate-data: "%(crt)s", client-key-data: "%(key)s"}
"""


@pytest.fixture()
def kubeconfig_file(tmp_path: Path) -> Path:
    encode = lambda text: base64.b64encode(text.encode()).decode()  # noqa: E731
    path = tmp_path / "config"
    path.write_text(KUBECONFIG % {"ca": encode("CA PEM"), "crt": encode("CRT PEM"), "key": encode("KEY PEM")})
    (tmp_path / "prod-token").write_text("prod-token-123456\n")
    return path


def test_current_context_with_token_and_ca_data(kubeconfig_file: Path) -> None:
    config = load_config(kubeconfig=kubeconfig_file, context=None, env={})
    assert (config.server, config.namespace, config.name, config.token) == (
        "https://dev.example:6443", "team", "dev", "dev-token-abcdef")
    assert isinstance(config.verify, str) and Path(config.verify).read_text() == "CA PEM"
    assert mask("token dev-token-abcdef") == "token ***"


def test_named_context_with_token_file_and_client_certificate(kubeconfig_file: Path) -> None:
    config = load_config(kubeconfig=kubeconfig_file, context="prod", env={})
    assert config.token == "prod-token-123456" and config.verify is False and config.namespace == "default"
    assert config.cert is not None and [Path(p).read_text() for p in config.cert] == ["CRT PEM", "KEY PEM"]
    assert oct(Path(config.cert[1]).stat().st_mode & 0o777) == "0o600"


def test_kubeconfig_env_is_used_when_no_flag(kubeconfig_file: Path) -> None:
    assert load_config(kubeconfig=None, context=None, env={"KUBECONFIG": str(kubeconfig_file)}).name == "dev"


def test_unknown_context_is_bad_input(kubeconfig_file: Path) -> None:
    with pytest.raises(BadInput, match="no context named 'staging'"):
        load_config(kubeconfig=kubeconfig_file, context="staging", env={})


def test_discovery_finds_kinds_added_by_a_crd_later(kube_api: KubeApiServer, kubeconfig: Path) -> None:
    client = KubeClient(load_config(kubeconfig=kubeconfig, context=None, env={}))
    assert client.resource("x.io/v1", "Tab") is None
    kube_api.put({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                  "metadata": {"name": "tabs.x.io"},
                  "spec": {"group": "x.io", "scope": "Cluster", "names": {"kind": "Tab", "plural": "tabs"},
                           "versions": [{"name": "v1", "served": True, "storage": True,
                                         "schema": {"openAPIV3Schema": {"type": "object"}}}]}})
    tabs = client.resource("x.io/v1", "Tab")
    assert tabs is not None and tabs.plural == "tabs" and not tabs.namespaced
    assert tabs.path(None, "a") == "/apis/x.io/v1/tabs/a"


def test_in_cluster_service_account(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("sa-token-0987654\n")
    (tmp_path / "namespace").write_text("updater-system")
    env = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    config = load_config(kubeconfig=None, context=None, env=env, service_account=tmp_path)
    assert (config.server, config.token, config.namespace, config.verify) == (
        "https://10.96.0.1:443", "sa-token-0987654", "updater-system", str(tmp_path / "ca.crt"))
    assert mask("sa-token-0987654") == "***"
    ipv6 = load_config(kubeconfig=None, context=None, env={**env, "KUBERNETES_SERVICE_HOST": "fd00::1"},
                       service_account=tmp_path)
    assert ipv6.server == "https://[fd00::1]:443"


def test_a_kubeconfig_flag_wins_over_the_service_account(kubeconfig_file: Path, tmp_path: Path) -> None:
    (tmp_path / "token").write_text("sa-token-0987654")
    config = load_config(kubeconfig=kubeconfig_file, context=None, env={"KUBERNETES_SERVICE_HOST": "10.96.0.1"},
                         service_account=tmp_path)
    assert config.name == "dev"


def test_a_rotated_token_file_is_picked_up(tmp_path: Path) -> None:
    with KubeApiServer(token="token-one-11111") as kube:
        kube.write_kubeconfig(tmp_path / "plain")
        (tmp_path / "token").write_text("token-one-11111")
        config = tmp_path / "config"
        config.write_text(f"apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                          f"contexts: [{{name: c, context: {{cluster: c, user: c}}}}]\n"
                          f"clusters: [{{name: c, cluster: {{server: '{kube.url}'}}}}]\n"
                          f"users: [{{name: c, user: {{tokenFile: token}}}}]\n")
        client = KubeClient(load_config(kubeconfig=config, context=None, env={}))
        configmaps = client.resource("v1", "ConfigMap")
        assert configmaps is not None
        kube.token = "token-two-22222"  # the server now only accepts the rotated token
        (tmp_path / "token").write_text("token-two-22222")
        client._refresh_token(every=0)
        assert client.list(configmaps) == []
        assert mask("token-two-22222") == "***"
