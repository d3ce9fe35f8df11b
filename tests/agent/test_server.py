"""The agent's HTTP endpoints over a real socket: metrics text, healthz, and webhook authentication."""

from __future__ import annotations

import hashlib
import hmac
import threading

import pytest
import requests

from updater.agent.report import AppStatus
from updater.agent.server import AgentServer, Metrics, verify_github, verify_gitlab

SECRET = "webhook-secret-123"


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_github_signature_checks() -> None:
    body = b'{"ref":"refs/heads/main"}'
    assert verify_github(SECRET, body, sign(body))
    assert not verify_github(SECRET, body + b" ", sign(body))
    assert not verify_github(SECRET, body, sign(body, "other-secret"))
    assert not verify_github(SECRET, body, sign(body).replace("sha256=", "sha1="))
    assert not verify_github(SECRET, body, None)


def test_gitlab_token_checks() -> None:
    assert verify_gitlab(SECRET, SECRET)
    assert not verify_gitlab(SECRET, SECRET + "x")
    assert not verify_gitlab(SECRET, None)


@pytest.fixture()
def server():
    triggered = threading.Event()
    metrics = Metrics("prod")
    metrics.record(AppStatus("shop", "a" * 40, "Synced", "Progressing", applied=("x", "y"), objects=3, duration=0.25),
                   now=1000.0)
    srv = AgentServer("127.0.0.1:0", metrics, on_webhook=triggered.set, webhook_secret=SECRET).start()
    yield srv, triggered
    srv.stop()


def test_metrics_are_prometheus_text(server) -> None:
    srv, _ = server
    response = requests.get(f"{srv.url}/metrics", timeout=5)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    lines = response.text.splitlines()
    assert 'updater_agent_syncs_total{app="shop",cluster="prod",outcome="ok"} 1' in lines
    assert 'updater_agent_applied_total{app="shop",cluster="prod"} 2' in lines
    assert 'updater_agent_synced{app="shop",cluster="prod"} 1' in lines
    assert 'updater_agent_health{app="shop",cluster="prod",state="Progressing"} 1' in lines
    assert 'updater_agent_health{app="shop",cluster="prod",state="Healthy"} 0' in lines
    assert "# TYPE updater_agent_syncs_total counter" in lines
    assert requests.get(f"{srv.url}/healthz", timeout=5).text == "ok\n"


def test_signed_github_webhook_triggers_a_sync(server) -> None:
    srv, triggered = server
    body = b'{"ref":"refs/heads/main"}'
    bad = requests.post(f"{srv.url}/webhook", data=body, headers={"X-Hub-Signature-256": sign(body, "nope")}, timeout=5)
    assert bad.status_code == 401 and not triggered.is_set()
    good = requests.post(f"{srv.url}/webhook", data=body, headers={"X-Hub-Signature-256": sign(body)}, timeout=5)
    assert good.status_code == 202 and triggered.is_set()


def test_gitlab_token_webhook_triggers_a_sync(server) -> None:
    srv, triggered = server
    assert requests.post(f"{srv.url}/webhook", data=b"{}", headers={"X-Gitlab-Token": "wrong"}, timeout=5).status_code == 401
    assert requests.post(f"{srv.url}/webhook", data=b"{}", timeout=5).status_code == 401
    assert not triggered.is_set()
    assert requests.post(f"{srv.url}/webhook", data=b"{}", headers={"X-Gitlab-Token": SECRET}, timeout=5).status_code == 202
    assert triggered.is_set()


def test_webhook_is_disabled_without_a_secret() -> None:
    triggered = threading.Event()
    srv = AgentServer("127.0.0.1:0", Metrics("c"), on_webhook=triggered.set, webhook_secret=None).start()
    try:
        assert requests.post(f"{srv.url}/webhook", data=b"{}", headers={"X-Gitlab-Token": ""}, timeout=5).status_code == 404
        assert not triggered.is_set()
    finally:
        srv.stop()
