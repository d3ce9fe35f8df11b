"""`updater agent`: the flags, and the start of the pull-side agent (`updater.agent.loop`).

Builds the settings once (flags over `--config` over defaults), the Kubernetes client, the commit
status posters and the optional HTTP server, then runs one pass (`--once`, `--dry-run`) or the loop.
"""

from __future__ import annotations

import argparse

HELP = "keep a cluster equal to a branch of a manifest repository (render, diff, apply, prune, heal)"
DESCRIPTION = """\
Follow a branch: poll its tip with `git ls-remote` (fetch only when it moved), render the path (plain
YAML recursively, or Kustomize), and server-side apply what differs with field manager `updater`.
Objects removed from git are pruned with --prune (only those this app applied and labelled
updater.dev/app=<name>). Manual edits (drift) are seen at once through watches, always reported,
and undone with --self-heal. Rollback is a `git revert` on the branch. A config file can declare
several target clusters (`clusters:`) and the operator's policy (`policy:`), checked before any apply.

examples:
  updater agent --repo https://github.com/acme/gitops --path clusters/prod --prune --self-heal
  updater agent --repo URL --path clusters/prod --once --dry-run   # CI check: exit 8 when out of sync
  updater agent --config agent.yml --listen 0.0.0.0:8080 --leader-elect   # clusters:, policy: (README)
  updater agent --repo URL --path clusters/prod --once --wait=5m          # CI: apply, wait for rollouts
  GITHUB_TOKEN=... updater agent --repo URL --path apps --token-env GITHUB_TOKEN \\
      --status-provider github --status-api https://api.github.com --cluster prod
"""


def configure(parser: argparse.ArgumentParser) -> None:
    app = parser.add_argument_group("what to follow (one app; several with --config)")
    app.add_argument("--repo", metavar="URL", help="manifest repository (https, file:// or a path)")
    app.add_argument("--branch", metavar="NAME", help="branch to follow (default: main)")
    app.add_argument("--path", metavar="DIR", help="directory (or file) in the repository to apply (default: .)")
    app.add_argument("--name", metavar="APP", help="app name: ownership label and inventory (default: from --path)")
    app.add_argument("--target-namespace", metavar="NS",
                     help="namespace for namespaced objects that name none (default: the context's)")
    app.add_argument("--token-env", metavar="VAR", help="environment variable holding the git token")
    app.add_argument("--config", metavar="FILE", help="agent.yml declaring several apps (see README)")

    sync = parser.add_argument_group("sync")
    sync.add_argument("--interval", metavar="DURATION", help="poll interval, e.g. 30s, 5m (default: 30s)")
    sync.add_argument("--prune", action="store_true", default=None,
                      help="delete objects this app applied that are no longer in git")
    sync.add_argument("--allow-empty-prune", action="store_true", default=None,
                      help="let an empty render prune everything (refused by default)")
    sync.add_argument("--self-heal", action="store_true", default=None,
                      help="undo manual edits of fields declared in git (always reported)")
    sync.add_argument("--allowed-namespace", dest="allowed_namespaces", action="append", metavar="NS",
                      help="refuse objects outside these namespaces (repeatable; default: any)")
    sync.add_argument("--allowed-cluster-kind", dest="allowed_cluster_kinds", action="append", metavar="KIND",
                      help="with --allowed-namespace: a cluster-scoped kind the app may apply, as Kind or "
                           "Kind.group (repeatable; default: none)")
    sync.add_argument("--kustomize-remote", action="store_true", default=None,
                      help="let kustomize fetch remote resources (git, http) named in the repository")
    sync.add_argument("--once", action="store_true", help="one pass over every app, then exit")
    sync.add_argument("--wait", nargs="?", const="5m", metavar="TIMEOUT",
                      help="with --once: wait for rollouts and report final health from fresh reads; "
                           "exit 7 when an app is not Healthy in time (default TIMEOUT: 5m)")
    sync.add_argument("--no-watch", action="store_true",
                      help="do not watch managed objects (drift is then seen at each interval only)")
    sync.add_argument("--dry-run", action="store_true",
                      help="print a diff per object that would change; exit 8 when out of sync (implies --once)")

    cluster = parser.add_argument_group("cluster")
    cluster.add_argument("--kubeconfig", metavar="PATH", help="kubeconfig (default: in-cluster, $KUBECONFIG, ~/.kube/config)")
    cluster.add_argument("--context", metavar="NAME", help="kubeconfig context (default: current)")
    cluster.add_argument("--namespace", metavar="NS", help="the agent's namespace: inventories, events, Lease "
                                                           "(default: updater-system)")
    cluster.add_argument("--cluster", metavar="NAME", help="cluster name in statuses and metrics (default: default)")
    cluster.add_argument("--leader-elect", action="store_true", default=None,
                         help="hold a coordination.k8s.io Lease; only the leader syncs")
    cluster.add_argument("--identity", metavar="ID", help="this replica's name in the Lease (default: hostname)")

    cluster.add_argument("--age-key-file", dest="age_key_files", action="append", metavar="PATH",
                         help="age identities for sops-encrypted manifests (repeatable; also SOPS_AGE_KEY_FILE, "
                              "SOPS_AGE_KEY; never read from the repository)")

    report = parser.add_argument_group("reporting")
    report.add_argument("--log-format", choices=("text", "json"), default="text",
                        help="json: one JSON object per log line, with app/commit/sync/health fields")
    report.add_argument("--listen", metavar="HOST:PORT", help="serve /metrics, /healthz and /webhook")
    report.add_argument("--webhook-secret-env", metavar="VAR",
                        help="variable holding the webhook secret (GitHub HMAC / GitLab token)")
    report.add_argument("--status-provider", choices=("github", "gitlab"),
                        help="post commit statuses 'deployed to <cluster>: healthy' on this forge")
    report.add_argument("--status-api", metavar="URL", help="forge API base URL for commit statuses")
    report.add_argument("--status-token-env", metavar="VAR", help="variable holding the forge token")
    report.add_argument("--status-app-id", metavar="ID",
                        help="post statuses as this GitHub App (needs statuses: write), with its private key")
    report.add_argument("--status-app-private-key-file", metavar="PATH",
                        help="the GitHub App's private key (PEM), e.g. a mounted Secret; never printed")
    report.add_argument("--status-app-private-key-env", metavar="VAR",
                        help="variable holding the GitHub App's private key (PEM)")
    report.add_argument("--cache-dir", metavar="DIR",
                        help="where checkouts are kept (default: $XDG_CACHE_HOME/updater/agent or ~/.cache/updater/agent)")


def run(args: argparse.Namespace) -> int:
    import signal
    import sys
    import threading

    from updater.agent.kubeconfig import remove_key_material

    if args.log_format == "json":
        from updater.agent.logs import use_json_logs

        use_json_logs()
    # SIGTERM/SIGHUP end the process through SystemExit, so the key material is removed (finally,
    # atexit); the loop replaces the SIGTERM handler with a graceful stop
    previous = {}
    if threading.current_thread() is threading.main_thread():  # signals can only be set there
        for number in (signal.SIGTERM, signal.SIGHUP):
            previous[number] = signal.signal(number, lambda signum, _frame: sys.exit(128 + signum))
    try:
        return _run(args)
    finally:
        remove_key_material()
        for number, handler in previous.items():
            signal.signal(number, handler)


def _run(args: argparse.Namespace) -> int:
    import os
    import signal
    import socket
    import threading
    import time
    from dataclasses import replace
    from pathlib import Path

    from updater.agent.client import KubeClient, load_config
    from updater.agent.clusters import Fleet
    from updater.agent.leader import LeaderElector
    from updater.agent.loop import Agent
    from updater.agent.report import CommitStatuses, commit_statuses
    from updater.agent.server import AgentServer
    from updater.agent.settings import build_settings, load_config_file, parse_duration
    from updater.agent.sops.sources import load_identities
    from updater.errors import BadInput
    from updater.secrets import register_secret

    flags = dict(vars(args))
    flags["once"] = args.once or args.dry_run
    if args.interval is not None:
        flags["interval"] = parse_duration(args.interval, source="--interval")
    if args.wait is not None:
        if not flags["once"]:
            raise BadInput("--wait: only with --once (the loop keeps reporting health on its own)")
        flags["wait"] = parse_duration(args.wait, source="--wait")
    if args.identity is None:
        flags["identity"] = socket.gethostname()
    config = load_config_file(Path(args.config)) if args.config else None
    if args.cache_dir is None and "cache_dir" not in (config or {}):
        # never the current directory: a checkout there would land inside whatever repo the user is in
        cache_home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        flags["cache_dir"] = str(Path(cache_home) / "updater" / "agent")
    settings = build_settings(flags, config=config, config_name=args.config or "")
    env = dict(os.environ)
    settings = replace(settings, sops_identities=load_identities(settings.age_key_files, env))
    for app in settings.apps:
        if app.token_env and not env.get(app.token_env):
            raise BadInput(f"app {app.name}: token variable {app.token_env} is empty or not set")
        register_secret(env.get(app.token_env or ""))
    status_token = env.get(settings.status.token_env or "") or None
    register_secret(status_token)
    client = KubeClient(load_config(kubeconfig=settings.kubeconfig, context=settings.context, env=env))
    statuses: dict[str, CommitStatuses | None]
    if settings.status.as_app:  # a GitHub App: the key is checked now, installations found on first post
        from updater.agent.app_statuses import app_statuses

        statuses = dict(app_statuses(settings.status, {app.name: app.repo for app in settings.apps}, env))
    else:
        statuses = {app.name: commit_statuses(settings.status.provider, settings.status.api_url, app.repo,
                                              status_token) for app in settings.apps}
    agent: Agent | Fleet = (Fleet(settings, client, env=env, statuses=statuses) if settings.clusters
                            else Agent(settings, client, env=env, statuses=statuses))
    if settings.once:
        code = agent.run_once()
        if settings.wait is not None:
            from updater.agent.waiting import wait_all

            wait_all(agent.members if isinstance(agent, Fleet) else {settings.cluster: agent}, settings.wait)
        return code

    secret = env.get(settings.webhook_secret_env or "") or None
    register_secret(secret)
    if settings.webhook_secret_env and not secret:
        raise BadInput(f"--webhook-secret-env: {settings.webhook_secret_env} is empty or not set")
    stop = threading.Event()
    def graceful(*_: object) -> None:
        stop.set()
        agent.wake.set()

    signal.signal(signal.SIGTERM, graceful)
    server = None
    if settings.listen:
        slowest = max(app.interval for app in settings.apps)
        try:
            server = AgentServer(settings.listen, agent.metrics, on_webhook=agent.wake.set, webhook_secret=secret,
                                 healthy=lambda: time.monotonic() - agent.last_round < 3 * slowest + 60)
        except OSError as err:
            raise BadInput(f"--listen {settings.listen}: cannot listen there ({err.strerror or err})") from err
        server.start()
    elector = None
    if settings.leader_elect:
        elector = LeaderElector(client, namespace=settings.namespace, identity=settings.identity,
                                lease_seconds=settings.lease_seconds)
    try:
        agent.run(stop, elector)
    finally:
        if server:
            server.stop()
    return 0
