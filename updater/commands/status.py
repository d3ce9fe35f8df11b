"""`updater status`: the flags, the one read of `os.environ`, and the reads behind the table (one
clone of the branch, the forge's open updater PRs, the commit statuses of each target's commit);
the table itself is `updater.promote.overview`'s."""

from __future__ import annotations

import argparse
import os

from updater.options.flags import add_flags
from updater.options.table import APP_AUTH_DESTS, rows_for

# the GitHub App options are bump's own rows of the options table (same flags, same $GITHUB_APP_ID)

HELP = "show where each version is: in git, proposed in a PR, deployed and healthy per cluster"
DESCRIPTION = """\
One table, app x environment: the versions the branch head holds under the environment's paths, the
versions an open updater PR proposes for it (with mergeability and auto-merge), and per cluster the
agent's `updater/<cluster>` commit status on the commit that introduced the versions in git
("no evidence" when the agent has not reported it). Always exit 0 once read; --json for scripts.

examples:
  GITHUB_TOKEN=... updater status --repo https://github.com/acme/gitops
  updater status --repo URL --target api             # one app, every environment
  updater status --repo URL --target api/production --json
  GITHUB_APP_ID=123456 APP_KEY="$(cat app.pem)" updater status --repo URL --app-private-key-env APP_KEY
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo", required=True, metavar="URL", help="the manifest repository")
    parser.add_argument("--target", metavar="APP[/ENV]", help="limit to one app, or one app/environment")
    parser.add_argument("--branch", metavar="NAME", help="the branch environments live on (default: the remote's)")
    parser.add_argument("--provider", choices=("github", "gitlab"), help="forge type when the URL does not tell")
    parser.add_argument("--api-url", metavar="URL", help="API base URL (GitHub Enterprise, self-managed GitLab)")
    parser.add_argument("--token-env", metavar="VAR", help="variable holding the token (default: GITHUB_TOKEN/GITLAB_TOKEN)")
    add_flags(parser, "rebase", rows=rows_for(APP_AUTH_DESTS))
    parser.add_argument("--pr-branch", metavar="TEMPLATE", help="the PR branch template bump uses (selects the PRs)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON on stdout")


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    from updater.commands.bump import mask_url_secrets
    from updater.errors import BadInput, NoReferenceFound
    from updater.auth import STATUSES_READ, RepoAuth
    from updater.git.workspace import Workspace
    from updater.landing import pr_body
    from updater.landing.pr import PrSettings, api_provider, branch_prefix
    from updater.options.request import build_request
    from updater.promote.overview import Proposed, Row, cluster_statuses, table
    from updater.promote.source import source_versions
    from updater.repo_config import read_repo_config

    env = os.environ
    mask_url_secrets(args.repo)
    flags = {"repo": args.repo, "branch": args.branch, "provider": args.provider, "api_url": args.api_url,
             "token_env": args.token_env, "mode": "pr", **{dest: getattr(args, dest) for dest in APP_AUTH_DESTS}}
    # a token or a GitHub App, as for bump (PR mode's settings: the forge API is needed)
    settings = PrSettings.from_request(build_request(flags, env, command="bump"), env)
    config = read_repo_config(args.repo, branch=args.branch, token_env=args.token_env, env=env,
                              auth=RepoAuth(settings.url, settings.credentials, settings.app, settings.forge))
    if config is None:
        raise BadInput(f"updater status needs .updater.yml (apps, environments, paths) in {args.repo}")
    names = config.target_names()
    if args.target:
        config.target(args.target)  # BadInput naming the known targets
        names = tuple(n for n in names if n == args.target or n.split("/")[0] == args.target)
    provider = api_provider(settings, permission=STATUSES_READ)
    open_prs = provider.list_open(head_prefix=branch_prefix(args.pr_branch))
    mergeable = provider.peek_mergeability(open_prs)
    proposed: dict[str, Proposed] = {}
    for pr in open_prs:
        state = pr_body.parse_marker(pr.body)
        if state is not None:
            proposed[state.target] = Proposed(state.refs, pr.number, pr.url, mergeable.get(pr.number, "unknown"),
                                              state.auto_merge)
    rows: list[Row] = []
    with Workspace.clone(settings.url, credentials=settings.credentials, branch=args.branch, shallow=False) as ws:
        for name in names:
            target = config.target(name)
            try:
                versions = source_versions(ws.root, tuple(target.settings.get("paths", ())), image=target.image,
                                           where=name)
            except (NoReferenceFound, BadInput) as err:  # shown as a row, not a failure of the whole view
                rows.append(Row(name, (), None, proposed.get(name), (), note=str(err)))
                continue
            commit = ws.last_commit(versions.files) or ws.head()
            rows.append(Row(name, versions.refs, commit, proposed.get(name),
                            cluster_statuses(provider.commit_statuses(commit))))
    if args.json:
        print(json.dumps([row.to_json() for row in rows], indent=2))
    else:
        sys.stdout.write(table(rows))
    return 0
