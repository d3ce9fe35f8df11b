"""Leader election on the emulator's coordination.k8s.io Lease: one of two agents leads; a dead
leader is replaced after the lease duration; a released Lease is taken at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agent.conftest import agent_namespace
from updater.agent.client import KubeClient, KubeConflict, load_config
from updater.agent.leader import LEASE, LeaderElector, is_expired, micro_time
from updater_sandbox.kube.server import KubeApiServer


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def elector(kubeconfig: Path, identity: str, clock: Clock) -> LeaderElector:
    client = KubeClient(load_config(kubeconfig=kubeconfig, context=None, env={}))
    return LeaderElector(client, namespace="updater-system", identity=identity, lease_seconds=15, clock=clock)


def test_is_expired() -> None:
    spec = {"renewTime": micro_time(1000.0), "leaseDurationSeconds": 15}
    assert not is_expired(spec, 1014.0)
    assert is_expired(spec, 1016.0)
    assert is_expired({}, 1.0)


def test_two_agents_one_leads_until_it_stops_renewing(kube_api: KubeApiServer, kubeconfig: Path) -> None:
    agent_namespace(kube_api)
    clock = Clock()
    a, b = elector(kubeconfig, "agent-a", clock), elector(kubeconfig, "agent-b", clock)
    assert a.try_acquire() and not b.try_acquire()
    clock.now += 10
    assert a.try_acquire() and not b.try_acquire()  # a renewed: b keeps waiting
    lease = kube_api.get("coordination.k8s.io/v1", "Lease", "updater-agent", "updater-system")
    assert lease["spec"]["holderIdentity"] == "agent-a" and lease["spec"]["leaseDurationSeconds"] == 15

    clock.now += 16  # a died without renewing
    assert b.try_acquire()
    assert not a.try_acquire() and not a.leading
    lease = kube_api.get("coordination.k8s.io/v1", "Lease", "updater-agent", "updater-system")
    assert lease["spec"]["holderIdentity"] == "agent-b" and lease["spec"]["leaseTransitions"] == 1


def test_a_takeover_from_a_stale_read_gets_409(kube_api: KubeApiServer, kubeconfig: Path) -> None:
    agent_namespace(kube_api)
    clock = Clock()
    a, b = elector(kubeconfig, "agent-a", clock), elector(kubeconfig, "agent-b", clock)
    assert a.try_acquire()
    clock.now += 20
    stale = b.client.get(LEASE, "updater-agent", namespace="updater-system")
    assert a.try_acquire()  # a renews between b's read and b's write
    with pytest.raises(KubeConflict):
        b.client.replace(LEASE, b._lease(stale, clock.now, transitions=1))
    lease = kube_api.get("coordination.k8s.io/v1", "Lease", "updater-agent", "updater-system")
    assert lease["spec"]["holderIdentity"] == "agent-a"


def test_release_hands_over_at_once(kube_api: KubeApiServer, kubeconfig: Path) -> None:
    agent_namespace(kube_api)
    clock = Clock()
    a, b = elector(kubeconfig, "agent-a", clock), elector(kubeconfig, "agent-b", clock)
    assert a.try_acquire()
    a.release()
    assert b.try_acquire()
