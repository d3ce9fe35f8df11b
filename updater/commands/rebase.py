"""`updater rebase`: refresh every open updater pull/merge request of a repository.

For a scheduled pipeline: each open PR whose base moved is regenerated from the new base (the bumps
it carries re-applied from scratch, never a conflict for a human) and force-pushed with a lease;
a PR whose content is already on the base is closed with a comment. The work is in
`updater.landing.pr.run_rebase`, imported only when the command runs.
"""

from __future__ import annotations

import argparse
import os

from updater.options.flags import add_flags

HELP = "regenerate every open updater pull/merge request whose base branch moved"
DESCRIPTION = """\
Refresh the pull requests (GitHub) or merge requests (GitLab) that `updater bump --mode pr` opened
in a repository: re-apply their bumps on the current base branch, force-push with lease, update
title and body; close those whose changes are already on the base.

examples:
  GITHUB_TOKEN=... updater rebase --repo https://github.com/acme/gitops
  GITLAB_TOKEN=... updater rebase --repo https://gitlab.example.com/acme/gitops --json
"""


def configure(parser: argparse.ArgumentParser) -> None:
    add_flags(parser, "rebase")


def run(args: argparse.Namespace) -> int:
    from updater.commands.bump import mask_url_secrets
    from updater.landing.pr import run_rebase
    from updater.options.request import build_request

    env = os.environ
    mask_url_secrets(args.repo)
    return run_rebase(build_request(vars(args), env, command="rebase"), env)
