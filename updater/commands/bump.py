"""`updater bump`: the flags (generated from `updater.options.table`), the one read of
`os.environ`, the request's last checks, then the mode (`updater.landing.route`: local files, push,
pull request) and its report printed. `land` is that path without the flags and the print:
`updater watch` calls it once per watched target with a request it built itself.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from updater.options.flags import add_flags

if TYPE_CHECKING:
    from updater.landing.output import Landed
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
    from updater.landing.output import emit
    from updater.options.request import build_request

    env = os.environ
    mask_url_secrets(args.repo)
    request = build_request(vars(args), env, command="bump")
    emit(land(request, env), as_json=request.json)
    return 0


def land(request: BumpRequest, env: Mapping[str, str]) -> Landed:
    """Refuse what no mode accepts, then land the request in its mode; what it would print."""
    from updater.errors import BadInput
    from updater.landing.route import land_request

    if not request.image:
        raise BadInput("--image is required: give the new reference, e.g. --image ghcr.io/acme/api:1.4.2")
    if request.repo and request.allow_remote_resources:
        raise BadInput("--allow-remote-resources works only without --repo (local mode) for now")
    return land_request(request, env)


def mask_url_secrets(repo: str | None) -> None:
    """Before anything can print the URL (a config read, an error): its password is masked from here on."""
    if repo:
        from updater.git.credentials import register_url_secrets

        register_url_secrets(repo)
