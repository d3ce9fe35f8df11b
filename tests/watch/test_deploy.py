"""deploy/watch/ (the in-cluster `updater watch --every 5m`) rendered by the real `kubectl kustomize`:
its args are a command line `updater watch` accepts, credentials come from a Secret (nothing literal),
the pod runs as the agent's does (non-root, read-only root filesystem, no privilege), and the
Kubernetes emulator accepts it by server-side apply beside deploy/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from updater.agent import yamldocs
from updater.cli import build_parser
from updater.proc import Result
from updater.watch.loop import parse_every
from updater_sandbox.kube.server import KubeApiServer

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def rendered(kubectl: Callable[..., Result], directory: Path) -> list[dict[str, Any]]:
    done = kubectl("kustomize", str(directory))
    assert done.returncode == 0, done.err
    return yamldocs.load_all(done.out.encode())


def test_the_watch_deployment_runs_the_loop_with_secret_credentials_as_non_root(kubectl: Callable[..., Result]) -> None:
    objects = rendered(kubectl, DEPLOY / "watch")
    assert sorted(o["kind"] for o in objects) == ["Deployment", "ServiceAccount"]
    assert all(o["metadata"]["namespace"] == "updater-system" for o in objects)
    (account,) = (o for o in objects if o["kind"] == "ServiceAccount")
    (deployment,) = (o for o in objects if o["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == account["metadata"]["name"] == "updater-watch"
    assert account["automountServiceAccountToken"] is False and pod["automountServiceAccountToken"] is False
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"] == {"type": "Recreate"}
    [container] = pod["containers"]
    assert container["image"] == "ghcr.io/updater-dev/updater:0.1.0" and container["command"] == ["updater"]
    args = build_parser().parse_args(container["args"])  # a command line the CLI accepts as it is
    assert args.command == "watch" and parse_every(args.every) == 300.0 and args.mode == "pr"
    assert args.repo.startswith("https://") and "@" not in args.repo  # no credentials in the URL
    assert container["envFrom"] == [{"secretRef": {"name": "updater-watch-credentials"}}]
    assert "env" not in container  # nothing literal: every credential comes from the Secret
    # SIGTERM lets the bump in flight finish: the grace period covers a bump's default --retry-timeout
    assert pod["terminationGracePeriodSeconds"] >= 120

    agent = next(o for o in rendered(kubectl, DEPLOY) if o["kind"] == "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"] == agent["securityContext"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert container["securityContext"] == agent["containers"][0]["securityContext"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    # the root filesystem is read-only: clones and HOME go to the one writable emptyDir
    assert container["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    assert pod["volumes"] == [{"name": "tmp", "emptyDir": {}}]


def test_emulator_accepts_the_watch_deployment_beside_deploy(kube_api: KubeApiServer,
                                                             kubectl: Callable[..., Result]) -> None:
    for directory in (DEPLOY, DEPLOY / "watch"):  # deploy/ first: it creates the namespace
        done = kubectl("apply", "--server-side", "-k", str(directory))
        assert done.returncode == 0, done.err
    assert kube_api.get("apps/v1", "Deployment", "updater-watch", "updater-system") is not None
    assert kube_api.get("v1", "ServiceAccount", "updater-watch", "updater-system") is not None
