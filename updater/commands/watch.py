"""`updater watch`: follow images in their registries and bump the targets whose policy allows a
newer tag (or whose followed tag moved to a new digest), through the same flow as
`updater bump --target` — so races, superseded PRs and auto-merge behave the same.

Two phases: every watched target is decided against its registry first (`updater.registry.watching`);
only then are the bumps run, one per target that has a candidate. A registry that is down or
refuses us fails the run before anything is pushed. `bump_target` is the one seam with bump.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
from pathlib import Path
from typing import Any

from updater.options.flags import add_flags
from updater.options.table import OPTIONS

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

Registry logins come from DOCKER_AUTH_CONFIG (a config.json's text), REGISTRY_AUTH_FILE, or
$DOCKER_CONFIG/config.json (~/.docker/config.json): what `docker login` writes. Bearer-token
challenges (Docker Hub, GHCR) and Basic auth are answered; a 429 is waited out (bounded).

exit codes: 0 done or nothing to do; 2 bad config; 6 registry login refused; 7 registry down or
answering garbage (nothing was changed); others as `updater bump`.

examples:
  updater watch --dry-run                          # what would change in the tree here
  updater watch --repo https://github.com/acme/gitops --json
  updater watch --repo URL --target api/staging --insecure-registry registry.local:5000
  GITHUB_APP_ID=123456 APP_KEY="$(cat app.pem)" updater watch --repo https://github.com/acme/gitops \
      --app-private-key-env APP_KEY                 # as a GitHub App, like bump
"""

log = logging.getLogger("updater.watch")

# watch flags handed to `updater bump` unchanged: (flag, dest)
_PASSED = (("--config", "config"), ("--dir", "dir"), ("--repo", "repo"), ("--branch", "branch"),
           ("--mode", "mode"), ("--token-env", "token_env"), ("--provider", "provider"), ("--api-url", "api_url"),
           ("--app-id", "app_id"), ("--app-private-key-env", "app_private_key_env"),
           ("--app-private-key-file", "app_private_key_file"))
_FORGE_ROWS = frozenset({"token_env", "provider", "api_url", "app_id", "app_private_key_env", "app_private_key_file"})
_SWITCHES = (("--dry-run", "dry_run"), ("--json", "json"), ("--no-validate", "no_validate"))


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
    # the token and forge flags are bump's own rows of the options table, passed to bump unchanged
    add_flags(where, "rebase", rows=tuple(r for r in OPTIONS if r.dest in _FORGE_ROWS))
    registry = parser.add_argument_group("registries")
    registry.add_argument("--insecure-registry", action="append", default=[], metavar="HOST[:PORT]",
                          help="talk plain http to this registry (a local one); repeatable")
    registry.add_argument("--registry-timeout", type=float, default=15.0, metavar="SECONDS",
                          help="timeout of each registry request")
    registry.add_argument("--page-size", type=int, default=1000, metavar="N",
                          help="tags asked for per page of a tag list (the registry may send fewer)")
    out = parser.add_argument_group("output")
    out.add_argument("--dry-run", action="store_true", help="decide and show the bumps; write and push nothing")
    out.add_argument("--json", action="store_true", help="one JSON report on stdout: decisions and bump reports")


def run(args: argparse.Namespace) -> int:
    from updater.errors import BadInput, UpdaterError
    from updater.registry.client import ClientSettings, RegistryClient
    from updater.registry.credentials import load_credentials
    from updater.registry.http import HttpSettings, RegistryHttp
    from updater.registry.spec import watched_targets
    from updater.registry.watching import decide_all

    if args.page_size < 1 or args.registry_timeout <= 0:
        raise BadInput("--page-size and --registry-timeout must be positive")
    config = _load_config(args)
    specs = watched_targets(config, tuple(args.target))
    if not specs:
        raise BadInput(f"no target in {config.source} has a watch: policy; add one (see `updater watch --help`)")
    http = RegistryHttp(load_credentials(os.environ, home=Path.home()), HttpSettings(timeout=args.registry_timeout))
    try:
        decisions = decide_all(RegistryClient(http, ClientSettings(page_size=args.page_size)), specs,
                               insecure=frozenset(args.insecure_registry))
    finally:
        http.close()
    reports: list[dict[str, Any]] = []
    failures: list[UpdaterError] = []
    for decision in decisions:
        report: dict[str, Any] = {"target": decision.target, "image": decision.image, "policy": decision.policy,
                                  "tags_seen": decision.tags_seen, "tag": decision.tag, "digest": decision.digest,
                                  "ref": decision.ref, "registry_calls": decision.calls, "bump": None, "error": None}
        if decision.ref is not None:
            try:
                report["bump"] = bump_target(args, target=decision.target, ref=decision.ref)
            except UpdaterError as err:
                log.error("%s: %s", decision.target, err)
                failures.append(err)
                report["error"] = str(err)
        reports.append(report)
    _print(reports, as_json=args.json, dry_run=args.dry_run)
    if failures:
        log.error("%d of %d watched target(s) failed; the others went through", len(failures), len(decisions))
        raise failures[0]
    return 0


def bump_target(args: argparse.Namespace, *, target: str, ref: str) -> Any:
    """Run `updater bump --target TARGET --image REF` with watch's repository flags; its report
    (parsed JSON with --json, else its text). The seam with bump: when bump takes a frozen request,
    build that here instead of argv."""
    from updater.commands import bump

    parser = argparse.ArgumentParser(prog="updater bump", add_help=False)
    bump.configure(parser)
    argv = ["--image", ref, "--target", target]
    argv += [item for flag, dest in _PASSED if getattr(args, dest) for item in (flag, getattr(args, dest))]
    argv += [flag for flag, dest in _SWITCHES if getattr(args, dest)]
    output = io.StringIO()
    with contextlib.redirect_stdout(output):  # bump prints its report; watch prints one for all
        bump.run(parser.parse_args(argv))
    return json.loads(output.getvalue()) if args.json else output.getvalue()


def _load_config(args: argparse.Namespace) -> Any:
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

    config = read_repo_config(args.repo, branch=args.branch, token_env=args.token_env, env=os.environ,
                              app=AppOptions.from_values(vars(args), os.environ), provider=args.provider,
                              api_url=args.api_url)
    if config is None:
        raise BadInput(f"no .updater.yml in {args.repo}: watch reads its targets from there (or give --config)")
    return config


def _print(reports: list[dict[str, Any]], *, as_json: bool, dry_run: bool) -> None:
    if as_json:
        print(json.dumps({"dry_run": dry_run, "registry_calls": sum(r["registry_calls"] for r in reports),
                          "targets": reports}, indent=2))
        return
    for report in reports:
        seen = "" if report["digest"] else f"{report['tags_seen']} tags, "  # a followed tag lists none
        print(f"# {report['target']}: {report['policy']} -> {report['ref'] or 'no allowed tag'}"
              f" ({seen}{report['registry_calls']} registry calls)")
        if isinstance(report["bump"], str):
            print(report["bump"], end="" if report["bump"].endswith("\n") or not report["bump"] else "\n")
