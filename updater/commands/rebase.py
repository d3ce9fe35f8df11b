"""`updater rebase`: refresh every open updater pull/merge request of a repository.

For a scheduled pipeline: each open PR whose base moved is regenerated from the new base (the bumps
it carries re-applied from scratch, never a conflict for a human) and force-pushed with a lease;
a PR whose content is already on the base is closed with a comment. The work is in
`updater.landing.pr.run_rebase`, imported only when the command runs.
"""

from __future__ import annotations

import argparse

from updater.commands.options import add_forge_options, add_identity_options, add_retry_options, add_token_option

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
    parser.add_argument("--repo", required=True, metavar="URL", help="the manifest repository (https or ssh URL)")
    parser.add_argument("--branch", metavar="NAME", help="only used to clone; PRs keep their own bases "
                        "(default: the remote's default branch)")
    add_forge_options(parser)
    add_token_option(parser)
    parser.add_argument("--pr-branch", metavar="TEMPLATE",
                        help="the branch template the PRs were opened with; its fixed prefix selects them "
                             "(default: updater/{base}/{target})")
    parser.add_argument("--title", metavar="TEMPLATE", help="PR title template, as given to bump")
    parser.add_argument("--body", metavar="TEMPLATE", help="PR body template, as given to bump")
    add_identity_options(parser)
    parser.add_argument("--no-validate", action="store_true", help="skip re-building touched Kustomize trees")
    add_retry_options(parser)
    parser.add_argument("--all", action="store_true",
                        help="regenerate every PR whose base moved, even those the forge can merge as they are "
                             "(default: only behind or conflicting ones, so CI is not restarted for nothing)")
    parser.add_argument("--dry-run", action="store_true", help="report what would be refreshed; push nothing")
    parser.add_argument("--json", action="store_true", help="print a JSON report on stdout")


def run(args: argparse.Namespace) -> int:
    from updater.commands.options import check_retry_options
    from updater.landing.pr import run_rebase

    check_retry_options(args)
    return run_rebase(args)
