"""`updater bump`: the flags (generated from `updater.options.table`), the one read of
`os.environ`, and the choice of mode (local files, push, pull request).

Each mode lives in its own module and is imported only when chosen:
  no --repo          -> updater.landing.local.run_local       (edit files under --dir, no git)
  --repo, mode push  -> updater.landing.push.run_push      (clone, commit, push, retry races)
  --repo, mode pr    -> updater.landing.pr.run_pr          (branch, push, open/update PR or MR)
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from updater.options.flags import add_flags

if TYPE_CHECKING:
    from updater.options.request import BumpRequest

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
    add_flags(parser, "bump")


def run(args: argparse.Namespace) -> int:
    """The edge: flags + os.environ (+ .updater.yml) -> one frozen request, then the mode."""
    from updater.errors import BadInput
    from updater.options.request import build_request

    env = os.environ
    mask_url_secrets(args.repo)
    request = build_request(vars(args), env, command="bump")
    if not request.image:
        raise BadInput("--image is required: give the new reference, e.g. --image ghcr.io/acme/api:1.4.2")
    if request.repo and request.allow_remote_resources:
        raise BadInput("--allow-remote-resources works only without --repo (local mode) for now")
    if request.repo is None:
        from updater.landing.local import run_local

        return run_local(request)
    if choose_mode(request) == "push":
        from updater.landing.push import run_push

        return run_push(request, env)
    from updater.landing.pr import run_pr

    return run_pr(request, env)


def mask_url_secrets(repo: str | None) -> None:
    """Before anything can print the URL (a config read, an error): its password is masked from here on."""
    if repo:
        from updater.git.credentials import register_url_secrets

        register_url_secrets(repo)


def choose_mode(request: BumpRequest) -> str:
    """--mode, else pr where a forge API is known (a provider flag or a GitHub/GitLab URL), else push."""
    if request.mode:
        return request.mode
    if request.provider or request.api_url:
        return "pr"
    url = (request.repo or "").lower()
    return "pr" if any(host in url for host in ("github.com", "gitlab.com", "github.", "gitlab.")) else "push"
