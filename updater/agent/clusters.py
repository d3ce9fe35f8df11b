"""One agent, several clusters: an `Agent` per target cluster, each in a thread of its own.

`fan_out` (pure) turns the settings into one `AgentSettings` per cluster: the apps that name it (an
app without `clusters:` goes to the agent's own cluster, `--cluster`), with `{cluster}` in a path
replaced by the cluster's name and a checkout cache of its own. `Fleet` connects each cluster with
its own client and request timeout and runs each member's loop in its own thread, so an unreachable
or failing cluster never delays or stops the others: its apps go Degraded with the reason, in that
cluster's status, Events, metrics (label `cluster`) and commit status (context `updater/<cluster>`).

Where state lives: each app's inventory (and its Events) in the agent's namespace of each **target**
cluster — prune reads the inventory of the cluster it deletes from, so it can never reach another
cluster's objects, and a cluster keeps its own record when the agent loses another. The leader Lease
and the policy ConfigMap live in the cluster the agent **runs in** (`--kubeconfig`/`--context`, or
in-cluster): one agent leads for every cluster, and the policy is the operator's, not a target's.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TextIO

from updater.agent.client import KubeClient, load_config
from updater.agent.cluster_settings import ClusterSettings
from updater.agent.leader import LeaderElector
from updater.agent.loop import Agent
from updater.agent.policy_gate import Gate, configmap_loader
from updater.agent.report import CommitStatuses
from updater.agent.server import Metrics
from updater.agent.settings import AgentSettings
from updater.errors import BadInput, UpdaterError

log = logging.getLogger("updater.agent")


def fan_out(settings: AgentSettings) -> dict[str, AgentSettings]:
    """Cluster name -> the settings of that cluster's member (its apps only), in declaration order."""
    names = [c.name for c in settings.clusters]
    targets: dict[str, list[str]] = {}
    for app in settings.apps:
        for name in app.clusters or (settings.cluster,):
            targets.setdefault(name, []).append(app.name)
    members = {}
    for name in sorted(targets, key=lambda n: names.index(n) if n in names else -1):
        apps = tuple(replace(app, path=app.path.replace("{cluster}", name))
                     for app in settings.apps if app.name in targets[name])
        members[name] = replace(settings, apps=apps, cluster=name, cache_dir=settings.cache_dir / name)
    return members


def connect(cluster: ClusterSettings, env: Mapping[str, str]) -> KubeClient:
    """A client of its own for `cluster` (credentials are read now; nothing is sent yet)."""
    if cluster.in_cluster and not env.get("KUBERNETES_SERVICE_HOST"):
        raise BadInput(f"clusters.{cluster.name}: in_cluster is set but the agent is not running in a pod")
    config = load_config(kubeconfig=cluster.kubeconfig, context=cluster.context, env=env)
    return KubeClient(config, timeout=cluster.timeout)


class _Broadcast:
    """`wake.set()` for the command and the webhook: wakes every member."""

    def __init__(self, members: Callable[[], list[Agent]]) -> None:
        self._members = members

    def set(self) -> None:
        for agent in self._members():
            agent.wake.set()


class SharedLease:
    """One Lease (in the agent's own cluster) for every member: a member's `try_acquire` asks the
    API at most once per third of the Lease, the others read the answer."""

    def __init__(self, elector: LeaderElector) -> None:
        self.elector = elector
        self.lease_seconds = elector.lease_seconds
        self._lock = threading.Lock()
        self._asked = float("-inf")
        self._leading = False

    def try_acquire(self) -> bool:
        with self._lock:
            if time.monotonic() - self._asked >= self.lease_seconds / 3:
                self._asked = time.monotonic()
                self._leading = False  # until the API says otherwise: an error means not leading
                self._leading = self.elector.try_acquire()  # a KubeError: the member logs it
            return self._leading

    def release(self) -> None:
        with self._lock:
            self.elector.release()


class FleetMetrics(Metrics):
    """Every member's metrics as one Prometheus page (each family once, samples labelled by cluster)."""

    def __init__(self, members: Callable[[], list[Agent]]) -> None:
        super().__init__("fleet")
        self._members = members

    def render(self) -> str:
        order: list[str] = []
        header: dict[str, list[str]] = {}
        samples: dict[str, list[str]] = {}
        for agent in self._members():
            family = ""
            for line in agent.metrics.render().splitlines():
                if line.startswith("# HELP "):
                    family = line.split()[2]
                    if family not in header:
                        order.append(family)
                        header[family], samples[family] = [line], []
                elif line.startswith("# TYPE "):
                    if len(header[family]) == 1:
                        header[family].append(line)
                elif line:
                    samples[family].append(line)
        return "".join("\n".join(header[f] + samples[f]) + "\n" for f in order)


class Fleet:
    """The members, run together; the same face as `Agent` to the command (`run_once`, `run`,
    `wake`, `metrics`, `last_round`)."""

    def __init__(self, settings: AgentSettings, home: KubeClient, *, env: Mapping[str, str],
                 statuses: Mapping[str, CommitStatuses | None] | None = None, out: TextIO | None = None,
                 clients: Mapping[str, KubeClient] | None = None) -> None:
        """`home`: the cluster the agent runs in (Lease, policy ConfigMap, and the apps without
        `clusters:`); `clients`: already connected members by name (else `connect` each)."""
        self.settings = settings
        self.home = home
        declared = {c.name: c for c in settings.clusters}
        given = dict(clients or {})
        gate = Gate(settings.policy, configmap_loader(home, settings.policy_configmap, namespace=settings.namespace)
                    if settings.policy_configmap else None)
        self.members: dict[str, Agent] = {}
        for name, member in fan_out(settings).items():
            client = given.get(name) or (connect(declared[name], env) if name in declared else home)
            agent = Agent(member, client, env=env, statuses=statuses, out=out)
            agent.gate = gate  # the operator's policy, read from the agent's own cluster
            self.members[name] = agent
        self.wake = _Broadcast(lambda: list(self.members.values()))
        self.metrics = FleetMetrics(lambda: list(self.members.values()))

    @property
    def last_round(self) -> float:
        """The oldest member's last round: /healthz fails when any member's loop is stuck."""
        return min(agent.last_round for agent in self.members.values())

    def run_once(self) -> int:
        """Every member's `run_once` at the same time; the first failure (in cluster order) is raised
        after all have finished. Dry-run output is printed per cluster, in order, not interleaved."""
        outcomes: dict[str, UpdaterError | None] = {}
        buffers = {name: io.StringIO() for name in self.members}
        out = next(iter(self.members.values())).out if self.members else None

        def one(name: str, agent: Agent) -> None:
            agent.out = buffers[name]
            try:
                agent.run_once()
                outcomes[name] = None
            except UpdaterError as err:
                outcomes[name] = err
                log.error("cluster %s: %s", name, err)

        threads = [threading.Thread(target=one, args=item, name=f"cluster-{item[0]}") for item in self.members.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for name, buffer in buffers.items():
            if out is not None and buffer.getvalue():
                out.write(f"## cluster {name}\n{buffer.getvalue()}")
                out.flush()
        for name in self.members:
            error = outcomes.get(name)
            if error is not None:
                raise error
        return 0

    def run(self, stop: threading.Event, elector: LeaderElector | None = None) -> None:
        """Every member's loop in its own thread until `stop`; returns when all have stopped."""
        lease = SharedLease(elector) if elector is not None else None
        threads = [threading.Thread(target=agent.run, args=(stop, lease), name=f"cluster-{name}", daemon=True)
                   for name, agent in self.members.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
