"""`updater bump`: the flags, and the choice of mode (local files, push, pull request).

Each mode lives in its own module and is imported only when chosen:
  no --repo          -> updater.bump.local.run_local       (edit files under --dir, no git)
  --repo, mode push  -> updater.landing.push.run_push      (clone, commit, push, retry races)
  --repo, mode pr    -> updater.landing.pr.run_pr          (branch, push, open/update PR or MR)
"""

from __future__ import annotations

import argparse

from updater.commands.options import (add_forge_options, add_identity_options, add_retry_options, add_token_option,
                                      check_retry_options)

HELP = "change image references (in files here, or in a repository by push or pull request)"
DESCRIPTION = """\
Point every reference to an image at a new tag or digest, editing only the bytes of the changed
values (comments, quoting, indentation and line ends stay as they are).

References are found in workload containers, Kustomize images:, Helm values (repository/tag or
image:), Argo CD Applications, Flux HelmReleases, and scalars marked with a line comment
`# updater:image=<name>` (whole reference) or `# updater:tag=<name>` (tag only).

examples:
  updater bump --image ghcr.io/acme/api:1.4.2
  updater bump --image ghcr.io/acme/api:1.4.2 --path 'apps/api/overlays/staging/**' --dry-run
  updater bump --image ghcr.io/acme/api:1.4.2@sha256:<64 hex> --json
  GITHUB_TOKEN=... updater bump --image ghcr.io/acme/api:1.4.2 \\
      --repo https://github.com/acme/gitops --mode pr --label deploy --auto-merge
"""


def configure(parser: argparse.ArgumentParser) -> None:
    what = parser.add_argument_group("what to change")
    what.add_argument(
        "--image", action="append", default=[], metavar="REF", required=False,
        help="new reference, name:tag, name@digest or name:tag@digest (repeatable)",
    )
    what.add_argument("--target", metavar="NAME",
                      help="a named target from .updater.yml (paths, mode, labels... for one app/environment)")
    what.add_argument("--config", metavar="FILE", help="config file (default: .updater.yml in the tree, if any)")
    what.add_argument("--allow-downgrade", action="store_true",
                      help="allow moving to a lower version (refused by default, exit 4)")
    what.add_argument("--allow-missing", action="store_true",
                      help="exit 0 when no reference to the image is found (default: exit 3)")

    where = parser.add_argument_group("where")
    where.add_argument("--dir", default=".", metavar="DIR",
                       help="the manifest tree to edit when --repo is not given")
    where.add_argument("--path", action="append", default=[], metavar="GLOB",
                       help="limit to files matching GLOB relative to the tree root; ** allowed (repeatable)")
    where.add_argument("--no-validate", action="store_true",
                       help="skip re-building the Kustomize trees the edit touches")
    where.add_argument("--allow-remote-resources", action="store_true",
                       help="let validation fetch the remote resources (URLs, git repositories) a Kustomize tree "
                            "names; by default such a tree is not validated (a warning says so). Local mode only")

    repo = parser.add_argument_group("repository (push and pull-request modes)")
    repo.add_argument("--repo", metavar="URL",
                      help="clone this repository (https, ssh, file:// or a path) instead of editing --dir")
    repo.add_argument("--branch", metavar="NAME", help="branch to push to or target (default: the remote's default)")
    repo.add_argument("--mode", choices=("push", "pr"),
                      help="push: commit straight to --branch; pr: open or update a pull/merge request "
                           "(default: pr for GitHub/GitLab remotes, push otherwise)")
    add_token_option(repo)
    repo.add_argument("--message", metavar="TEMPLATE",
                      help="commit message template: {summary} {image} {tag} {old} {new} {files} {changes} "
                           "{ci[VAR]}... (README: Usage: push mode)")
    add_identity_options(repo)
    add_retry_options(repo)

    pr = parser.add_argument_group("pull / merge requests (--mode pr)")
    add_forge_options(pr)
    pr.add_argument("--pr-branch", metavar="TEMPLATE",
                    help="branch name template for the PR (default: updater/{base}/{target})")
    pr.add_argument("--title", metavar="TEMPLATE", help="PR title template")
    pr.add_argument("--body", metavar="TEMPLATE", help="PR body template (a table of changes is appended)")
    pr.add_argument("--label", action="append", default=[], metavar="NAME", help="label to add (repeatable)")
    pr.add_argument("--reviewer", action="append", default=[], metavar="USER", help="reviewer to request (repeatable)")
    pr.add_argument("--assignee", action="append", default=[], metavar="USER", help="assignee (repeatable)")
    pr.add_argument("--draft", action="store_true", help="open as draft")
    pr.add_argument("--auto-merge", action="store_true", help="merge automatically once checks pass")
    pr.add_argument("--merge-method", choices=("merge", "squash", "rebase"), default="squash",
                    help="merge method for auto-merge")

    out = parser.add_argument_group("output")
    out.add_argument("--dry-run", action="store_true", help="show what would change; write and push nothing")
    out.add_argument("--json", action="store_true", help="print a JSON report on stdout instead of a diff")


def run(args: argparse.Namespace) -> int:
    import os

    from updater.errors import BadInput

    check_retry_options(args)
    if args.repo and args.allow_remote_resources:
        raise BadInput("--allow-remote-resources works only without --repo (local mode) for now")
    if args.repo:  # before anything can print the URL: its password is masked from here on
        from updater.git.credentials import register_url_secrets

        register_url_secrets(args.repo)
    if args.target or args.config:  # .updater.yml settings, before the mode (which it may set) is chosen
        from updater.config import apply_config

        args = apply_config(args, os.environ)
    if not args.image:
        raise BadInput("--image is required: give the new reference, e.g. --image ghcr.io/acme/api:1.4.2")
    if args.repo is None:
        from updater.bump.local import run_local

        return run_local(args)
    if args.mode == "push" or (args.mode is None and not _looks_like_forge(args)):
        from updater.landing.push import run_push

        return run_push(args)
    from updater.landing.pr import run_pr

    return run_pr(args)


def _looks_like_forge(args: argparse.Namespace) -> bool:
    """PR mode is the default where a forge API is known: a provider flag or a GitHub/GitLab URL."""
    if args.provider or args.api_url:
        return True
    url = args.repo.lower()
    return any(host in url for host in ("github.com", "gitlab.com", "github.", "gitlab."))
