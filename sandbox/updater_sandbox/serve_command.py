"""`updater sandbox serve`: run the local forge (git over HTTP + GitHub/GitLab-compatible APIs) until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from updater_sandbox.forge import Forge
    from updater_sandbox.web import LoggedRequest

HELP = "run the local forge: git over HTTP plus GitHub- and GitLab-compatible APIs on 127.0.0.1"
DESCRIPTION = (
    "Serve bare git repositories over smart HTTP with a GitHub REST/GraphQL API (/api/v3, /api/graphql)\n"
    "and a GitLab v4 API (/api/v4) on 127.0.0.1, for demos and tests. Prints the URLs and a token.\n\n"
    "examples:\n"
    "  updater sandbox serve --repo acme/gitops              # a throw-away forge with one repository\n"
    "  updater sandbox serve --dir ./forge --port 8080       # repositories kept in ./forge across runs"
)

log = logging.getLogger("updater.sandbox")


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="sandbox_command", metavar="ACTION", required=True)
    serve = sub.add_parser("serve", help="serve the forge until interrupted", description=DESCRIPTION,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    serve.add_argument("--dir", type=Path, default=None,
                       help="where bare repositories live (owner/name.git); default: a new temporary directory")
    serve.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    serve.add_argument("--token", default=None, help="the API/git token to accept (default: a random one)")
    serve.add_argument("--repo", action="append", default=[], metavar="OWNER/NAME",
                       help="create this repository (one README commit on main) unless it exists; repeatable")
    serve.add_argument("--mergeability-delay", type=float, default=1.0,
                       help="seconds a PR/MR reads as 'checking' after its head or base moves")
    serve.add_argument("--validate", action="store_true",
                       help="check every JSON answer against the vendored contracts and log violations")


def run(args: argparse.Namespace) -> int:
    from updater.errors import BadInput
    from updater_sandbox.forge import Forge
    from updater.secrets import register_secret

    if not 0 <= args.port <= 65535:
        raise BadInput(f"--port {args.port}: must be between 0 and 65535")
    if args.dir is not None and args.dir.exists() and not args.dir.is_dir():
        raise BadInput(f"--dir {args.dir}: exists and is not a directory")
    try:
        forge = Forge(args.dir, port=args.port, token=args.token)
    except OSError as err:
        raise BadInput(f"--port {args.port}: cannot listen on 127.0.0.1 ({err.strerror}); pick another port") from err
    forge.mergeability_delay = args.mergeability_delay
    for name in args.repo:
        if forge.store.repo(name) is None:
            try:
                forge.create_repo(name)
            except ValueError as err:
                forge.stop()
                raise BadInput(f"--repo {name}: {err}") from err
    if args.validate:
        try:
            import openapi_schema_validator  # noqa: F401 (a test extra; checked before serving)
        except ImportError as err:
            raise BadInput("--validate needs openapi-schema-validator: pip install 'updater[test]'") from err
        from updater_sandbox.schemas import entry_violations

        def warn(entry: LoggedRequest) -> None:
            for violation in entry_violations(entry):
                log.warning("contract: %s", violation)

        forge.observers.append(warn)
    if args.token:
        register_secret(args.token)  # the user's own token: never echoed
    forge.start()
    try:  # from here on, Ctrl-C (even during the banner) is a clean stop
        _banner(forge, given_token=bool(args.token))
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopping", file=sys.stderr)
    finally:
        forge.stop()
    return 0


def _banner(forge: Forge, *, given_token: bool) -> None:
    print(f"git:        {forge.git_url}/<owner>/<repo>.git   (any user name, the token as password)")
    print(f"GitHub API: {forge.github_api_url}   (PyGithub base_url; GraphQL at {forge.url}/api/graphql)")
    print(f"GitLab API: {forge.gitlab_api_url}   (python-gitlab url; REST under /api/v4)")
    print(f"token:      {'(the one given with --token)' if given_token else forge.token}")
    print(f"repositories under {forge.root}: {', '.join(sorted(forge.store.repos)) or '(none yet)'}")
    print("Ctrl-C to stop.", flush=True)
