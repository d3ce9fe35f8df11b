"""`updater watch`: follow images in their registries and bump the targets whose policy allows a
newer tag (or whose followed tag moved to a new digest), through the same flow as
`updater bump --target` — so races, superseded PRs and auto-merge behave the same.

A pass has two phases: every watched target is decided against its registry first
(`updater.registry.watching`); only then are the bumps run, one per target that has a candidate. A
registry that is down or refuses us fails the pass before anything is pushed. `.updater.yml` is read
and validated once per pass; each bump is a `BumpRequest` built from it (`updater.options.request`)
and landed by `updater.commands.bump.land`, the path `updater bump --target` takes after its flags.

One pass by default (`--once`); `--every DURATION` runs passes until SIGTERM/SIGINT
(`updater.watch.loop`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from updater.options.flags import add_flags
from updater.options.table import APP_AUTH_DESTS, COMMIT_DESTS, SCHEMA_DESTS, rows_for

if TYPE_CHECKING:
    from updater.config import Config
    from updater.watch.loop import Stop

HELP = "follow images in their registries and bump targets to the newest tag their policy allows"
DESCRIPTION = """\
For each target in .updater.yml with a `watch:` policy, list the image's tags in its registry
(OCI Distribution API v2: Docker Hub, GHCR, GitLab, Harbor, distribution...), pick the newest
tag the policy allows, and run `updater bump --target` with it (a PR, a push, or local edits).

  apps:
    api:
      image: ghcr.io/acme/api
      watch:
        policy: {semver: "~1.4"}          # >=1.4.0 <1.5.0; pre-releases only with prerelease: true
      environments:
        staging: {}
        production: {watch: {policy: {semver: "~1.3"}}}
    worker:
      image: ghcr.io/acme/worker
      watch: {policy: {regex: '^main-(?P<key>[0-9]+)$', sort: numeric}}   # or lexical, created
      environments: {prod: {}}
    proxy:
      image: docker.io/library/nginx
      watch: {policy: {follow: stable}}   # pin nginx:stable@sha256:..., bump when it moves
      environments: {prod: {}}

One pass by default (--once: a scheduled CI job). --every DURATION (30s, 5m, 1h) runs a pass every
DURATION measured from the start of the previous one, until SIGTERM (exit 0) or SIGINT (exit 130):
a signal lets the bump in flight finish and stops before the next target. A pass that fails (a
registry down, a forge refusing) is logged in one line and the next pass runs on schedule; with
--json each pass prints its report as one line (JSON Lines). deploy/watch/ runs it in a cluster.

Registry logins come from DOCKER_AUTH_CONFIG (a config.json's text), REGISTRY_AUTH_FILE, or
$DOCKER_CONFIG/config.json (~/.docker/config.json): what `docker login` writes. Bearer-token
challenges (Docker Hub, GHCR) and Basic auth are answered; a 429 is waited out (bounded).

exit codes (--once): 0 done or nothing to do; 2 bad config; 6 registry login refused; 7 registry
down or answering garbage (nothing was changed); others as `updater bump`. With --every: 2 for bad
flags, else 0 after SIGTERM and 130 after SIGINT.

examples:
  updater watch --dry-run                          # what would change in the tree here
  updater watch --repo https://github.com/acme/gitops --json
  updater watch --repo URL --target api/staging --insecure-registry registry.local:5000
  updater watch --repo https://github.com/acme/gitops --mode pr --every 5m   # a long-running watcher
  GITHUB_APP_ID=123456 APP_KEY="$(cat app.pem)" updater watch --repo https://github.com/acme/gitops \
      --app-private-key-env APP_KEY                 # as a GitHub App, like bump
"""

log = logging.getLogger("updater.watch")

# watch flags that are bump's own options, handed to each bump's request unchanged
_FORGE_DESTS = ("token_env", "provider", "api_url", *APP_AUTH_DESTS)
_PASSED = ("config", "dir", "repo", "branch", "mode", *_FORGE_DESTS, *COMMIT_DESTS, *SCHEMA_DESTS,
           "dry_run", "json", "no_validate")


def configure(parser: argparse.ArgumentParser) -> None:
    what = parser.add_argument_group("what to watch")
    what.add_argument("--target", action="append", default=[], metavar="NAME",
                      help="only this target (app/environment, or app for all its environments; repeatable)")
    what.add_argument("--config", metavar="FILE", help="config file (default: .updater.yml of --dir or --repo)")
    where = parser.add_argument_group("where the manifests are (as for `updater bump`)")
    where.add_argument("--dir", default=".", metavar="DIR", help="the manifest tree when --repo is not given")
    where.add_argument("--repo", metavar="URL", help="the manifest repository to bump in (push or pull request)")
    where.add_argument("--branch", metavar="NAME", help="branch to push to or target")
    where.add_argument("--mode", choices=("push", "pr"), help="push or pr (default: as `updater bump`)")
    where.add_argument("--no-validate", action="store_true", help="skip re-building the Kustomize trees touched")
    # the token, forge, commit and schema flags are bump's own rows of the options table, passed to
    # each bump unchanged
    add_flags(where, "rebase", rows=rows_for(_FORGE_DESTS + COMMIT_DESTS + SCHEMA_DESTS))
    registry = parser.add_argument_group("registries")
    registry.add_argument("--insecure-registry", action="append", default=[], metavar="HOST[:PORT]",
                          help="talk plain http to this registry (a local one); repeatable")
    registry.add_argument("--registry-timeout", type=float, default=15.0, metavar="SECONDS",
                          help="timeout of each registry request")
    registry.add_argument("--page-size", type=int, default=1000, metavar="N",
                          help="tags asked for per page of a tag list (the registry may send fewer)")
    when = parser.add_argument_group("schedule").add_mutually_exclusive_group()
    when.add_argument("--once", action="store_true", help="one pass, then exit (the default)")
    when.add_argument("--every", metavar="DURATION",
                      help="a pass every DURATION (30s, 5m, 1h) from the start of the previous one, "
                           "until SIGTERM (exit 0) or SIGINT (exit 130)")
    out = parser.add_argument_group("output")
    out.add_argument("--dry-run", action="store_true", help="decide and show the bumps; write and push nothing")
    out.add_argument("--json", action="store_true", help="one JSON report on stdout: decisions and bump reports")


def run(args: argparse.Namespace) -> int:
    from updater.commands.bump import mask_url_secrets
    from updater.errors import BadInput

    if args.page_size < 1 or args.registry_timeout <= 0:
        raise BadInput("--page-size and --registry-timeout must be positive")
    mask_url_secrets(args.repo)
    if args.every is None:
        watch_pass(args, os.environ)
        return 0
    from updater.watch.loop import parse_every, run_every, stopping_on

    every = parse_every(args.every)
    with stopping_on() as stop:
        passes = run_every(every, lambda number: watch_pass(args, os.environ, stop=stop, number=number), stop)
    log.info("watch: stopped after %d pass(es)", passes)
    return 130 if stop.signum == signal.SIGINT else 0


def watch_pass(args: argparse.Namespace, env: Mapping[str, str], *, stop: Stop | None = None,
               number: int | None = None) -> None:
    """One pass: read the config, decide every target against its registry, bump those with a
    candidate; raises the first bump failure after trying them all."""
    from updater.errors import BadInput, UpdaterError
    from updater.registry.client import ClientSettings, RegistryClient
    from updater.registry.credentials import load_credentials
    from updater.registry.http import HttpSettings, RegistryHttp
    from updater.registry.spec import watched_targets
    from updater.registry.watching import decide_all

    config = _load_config(args, env)
    specs = watched_targets(config, tuple(args.target))
    if not specs:
        raise BadInput(f"no target in {config.source} has a watch: policy; add one (see `updater watch --help`)")
    http = RegistryHttp(load_credentials(env, home=Path.home()), HttpSettings(timeout=args.registry_timeout))
    try:
        decisions = decide_all(RegistryClient(http, ClientSettings(page_size=args.page_size)), specs,
                               insecure=frozenset(args.insecure_registry))
    finally:
        http.close()
    reports: list[dict[str, Any]] = []
    failures: list[UpdaterError] = []
    for decision in decisions:
        if stop is not None and stop.requested:
            log.warning("watch: stopping before %s and %d other target(s)", decision.target,
                        len(decisions) - len(reports) - 1)
            break
        report: dict[str, Any] = {"target": decision.target, "image": decision.image, "policy": decision.policy,
                                  "tags_seen": decision.tags_seen, "tag": decision.tag, "digest": decision.digest,
                                  "ref": decision.ref, "registry_calls": decision.calls, "bump": None, "error": None}
        if decision.ref is not None:
            try:
                report["bump"] = bump_target(args, env, config, target=decision.target, ref=decision.ref)
            except UpdaterError as err:
                log.error("%s: %s", decision.target, err)
                failures.append(err)
                report["error"] = str(err)
        reports.append(report)
    _print(reports, as_json=args.json, dry_run=args.dry_run, number=number)
    if failures:
        log.error("%d of %d watched target(s) failed; the others went through", len(failures), len(decisions))
        raise failures[0]


def bump_target(args: argparse.Namespace, env: Mapping[str, str], config: Config, *, target: str, ref: str) -> Any:
    """`updater bump --target TARGET --image REF` with watch's repository flags, from the config
    this pass read: its report (the `--json` report as a dict with --json, else its text)."""
    from updater.commands.bump import land
    from updater.options.request import build_request

    flags = {dest: getattr(args, dest) or None for dest in _PASSED}  # None: not given (a switch left off)
    flags.update(image=[ref], target=target)
    landed = land(build_request(flags, env, command="bump", loaded=config), env)
    return landed.report if args.json else landed.text


def _load_config(args: argparse.Namespace, env: Mapping[str, str]) -> Config:
    from updater.config import find_config, read_config
    from updater.errors import BadInput

    if args.config:
        return read_config(Path(args.config), source=args.config)
    if args.repo is None:
        path = find_config(Path(args.dir))
        if path is None:
            raise BadInput(f"no .updater.yml in {args.dir}: watch reads its targets from there (or give --config)")
        return read_config(path)
    from updater.repo_config import read_repo_config

    from updater.auth import AppOptions  # a token or a GitHub App, as the bumps will authenticate

    config = read_repo_config(args.repo, branch=args.branch, token_env=args.token_env, env=env,
                              app=AppOptions.from_values(vars(args), env), provider=args.provider,
                              api_url=args.api_url)
    if config is None:
        raise BadInput(f"no .updater.yml in {args.repo}: watch reads its targets from there (or give --config)")
    return config


def _print(reports: list[dict[str, Any]], *, as_json: bool, dry_run: bool, number: int | None) -> None:
    """One report per pass; in a loop (`number` set) the JSON report is one line (JSON Lines)."""
    from updater.secrets import mask

    if as_json:
        document: dict[str, Any] = {"dry_run": dry_run, "registry_calls": sum(r["registry_calls"] for r in reports),
                                    "targets": reports}
        if number is not None:
            document = {"pass": number, **document}
        print(mask(json.dumps(document, indent=None if number is not None else 2)), flush=True)
        return
    if number is not None:
        print(f"# pass {number}: {len(reports)} watched target(s)")
    for report in reports:
        seen = "" if report["digest"] else f"{report['tags_seen']} tags, "  # a followed tag lists none
        print(f"# {report['target']}: {report['policy']} -> {report['ref'] or 'no allowed tag'}"
              f" ({seen}{report['registry_calls']} registry calls)")
        if isinstance(report["bump"], str):
            text = mask(report["bump"])
            print(text, end="" if text.endswith("\n") or not text else "\n")
    print(end="", flush=True)  # a watcher's log is read live (kubectl logs -f)
