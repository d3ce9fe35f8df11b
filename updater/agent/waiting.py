"""`--once --wait[=TIMEOUT]`: after the pass, wait for every app's rollouts and report final health.

Health comes from fresh reads of each app's declared workloads (`rollout.wait_healthy`), polled
until none is Progressing or the time is up, per cluster at the same time. Each app's outcome is
logged; an app that ends Degraded, or still Progressing at the deadline, makes the command fail
with the objects that were not done — so a CI job can gate on "deployed and healthy".
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping

from updater.agent.client import KubeError
from updater.agent.health import Health
from updater.agent.loop import Agent
from updater.agent.rollout import Waited, wait_healthy
from updater.errors import UpdaterError

log = logging.getLogger("updater.agent")


class RolloutFailed(UpdaterError):
    """`--wait`: an app ended Degraded, or its rollout had not finished when the time was up."""

    exit_code = KubeError.exit_code


def wait_all(members: Mapping[str, Agent], timeout: float) -> dict[tuple[str, str], Waited]:
    """(cluster, app) -> how its wait ended; raises `RolloutFailed` naming the first app not Healthy."""
    outcomes: dict[tuple[str, str], Waited] = {}
    deadline = time.monotonic() + timeout

    def one(cluster: str, agent: Agent) -> None:
        for app in agent.settings.apps:
            objects = agent.desired_objects(app.name)
            left = max(0.0, deadline - time.monotonic())
            try:
                outcomes[(cluster, app.name)] = waited = wait_healthy(agent.client, objects, timeout=left)
            except KubeError as err:
                outcomes[(cluster, app.name)] = Waited(Health.DEGRADED, (str(err),), timeout - left)
                continue
            log.info("app %s on %s: %s after %.1fs", app.name, cluster, waited.health.value, waited.seconds,
                     extra={"fields": {"app": app.name, "cluster": cluster, "health": waited.health.value,
                                       "pending": list(waited.pending)}})

    threads = [threading.Thread(target=one, args=item, name=f"wait-{item[0]}") for item in members.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for (cluster, app), waited in sorted(outcomes.items()):
        if waited.health is not Health.HEALTHY:
            state = ("still progressing after " + f"{timeout:g}s") if waited.health is Health.PROGRESSING \
                else waited.health.value.lower()
            raise RolloutFailed(f"app {app} on {cluster}: {state}: {'; '.join(waited.pending[:3]) or 'no detail'}")
    return outcomes
