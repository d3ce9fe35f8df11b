"""`updater promote`: the flags, the one read of `os.environ`, and the loop over promotion steps
(`updater.promote.run` does each one)."""

from __future__ import annotations

import argparse
import os

from updater.options.flags import add_flags
from updater.options.table import APP_AUTH_DESTS, COMMIT_DESTS, SCHEMA_DESTS, rows_for

HELP = "promote the versions one environment runs to the next (gated on the agent's health report)"
DESCRIPTION = """\
Read the image versions the source environment's paths hold on the branch, and open or update the
target environment's pull request to exactly those versions (every image the source holds, or the
app's `image:` when .updater.yml names one), through the same flow as `updater bump --target`.

Gated by evidence: by default it promotes only when the agent reported the commit that introduced
those versions as deployed and healthy (every `updater/<cluster>` commit status on it is success).
Refused: exit 4, naming the missing or failing status. The PR body links the evidence.

examples:
  GITHUB_TOKEN=... updater promote --repo https://github.com/acme/gitops --target api \\
      --from staging --to production
  updater promote --repo URL --target api --from staging --to production --wait 600
  updater promote --repo URL --target api --next          # each environment from its predecessor
  updater promote --repo URL --target api --from staging --to production --no-verify  # no gate
  GITHUB_APP_ID=123456 APP_KEY="$(cat app.pem)" updater promote --repo https://github.com/acme/gitops \
      --target api --from staging --to production --app-private-key-env APP_KEY

Authentication: a forge token (GITHUB_TOKEN/GITLAB_TOKEN, --token-env) or a GitHub App (--app-id
with its key), as for bump. In push mode --no-verify needs no forge token (only git access); the
gate without one is exit 6.
"""

# bump flags passed on as given (the repository and its forge)
_PASSED = ("repo", "branch", "mode", "provider", "api_url", "token_env", "config", "retries",
           *APP_AUTH_DESTS, *COMMIT_DESTS, *SCHEMA_DESTS)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", required=True, metavar="APP", help="the app in .updater.yml")
    parser.add_argument("--from", dest="source", metavar="ENV", help="the environment to promote from")
    parser.add_argument("--to", dest="to", metavar="ENV", help="the environment to promote to")
    parser.add_argument("--next", dest="following", action="store_true",
                        help="promote each environment from its predecessor in `promotion:` order")
    parser.add_argument("--no-verify", action="store_true",
                        help="promote without the agent's evidence (the PR body says it was not verified)")
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                        help="wait up to this long for the agent's healthy status (default: 0, check once)")
    parser.add_argument("--repo", required=True, metavar="URL", help="the manifest repository")
    parser.add_argument("--branch", metavar="NAME", help="the branch environments live on (default: the remote's)")
    parser.add_argument("--mode", choices=("push", "pr"), help="as for bump (default: pr on GitHub/GitLab)")
    parser.add_argument("--provider", choices=("github", "gitlab"), help="forge type when the URL does not tell")
    parser.add_argument("--api-url", metavar="URL", help="API base URL (GitHub Enterprise, self-managed GitLab)")
    parser.add_argument("--token-env", metavar="VAR", help="variable holding the token (default: GITHUB_TOKEN/GITLAB_TOKEN)")
    # bump's own rows of the options table (same flags, same $GITHUB_APP_ID): App auth, how the
    # commit is made and signed, the schemas the edit is checked against
    add_flags(parser, "rebase", rows=rows_for(APP_AUTH_DESTS + COMMIT_DESTS + SCHEMA_DESTS))
    parser.add_argument("--config", metavar="FILE", help="config file (default: .updater.yml on the branch)")
    parser.add_argument("--retries", type=int, metavar="N", help="as for bump")
    parser.add_argument("--dry-run", action="store_true", help="show what would be proposed; push nothing")
    parser.add_argument("--json", action="store_true", help="print bump's JSON report for each promotion")


def run(args: argparse.Namespace) -> int:
    import math
    from pathlib import Path

    from updater.auth import AppOptions, RepoAuth
    from updater.commands.bump import mask_url_secrets
    from updater.config import read_config
    from updater.errors import BadInput
    from updater.landing.output import emit
    from updater.landing.route import land_request
    from updater.options.request import BumpRequest
    from updater.promote.run import promote_step, steps
    from updater.repo_config import read_repo_config

    env = os.environ
    mask_url_secrets(args.repo)
    if not math.isfinite(args.wait) or args.wait < 0:
        raise BadInput(f"--wait {args.wait}: give zero or more seconds")
    if args.config:
        config = read_config(Path(args.config), source=args.config)
    else:
        found = read_repo_config(args.repo, branch=args.branch, token_env=args.token_env, env=env,
                                 app=AppOptions.from_values(vars(args), env), provider=args.provider,
                                 api_url=args.api_url)
        if found is None:
            raise BadInput(f"updater promote needs .updater.yml (apps, environments, paths) in {args.repo}")
        config = found
    flags = {dest: getattr(args, dest) for dest in _PASSED if getattr(args, dest) is not None}
    flags.update(dry_run=args.dry_run or None, json=args.json or None)

    def land(request: BumpRequest, auth: RepoAuth) -> int:
        emit(land_request(request, env, auth=auth), as_json=request.json)  # bump's own dispatch and print
        return 0

    for step in steps(config, args.target, source=args.source, target=args.to, following=args.following):
        promote_step(step, config, flags, env, verify=not args.no_verify, wait=args.wait, land=land)
    return 0
