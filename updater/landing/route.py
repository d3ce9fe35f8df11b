"""Which landing mode a resolved request goes to, and landing it there without printing: the one
dispatch behind `updater bump`, `updater watch` (one request per watched target) and `updater promote`.

  no repo            -> updater.landing.local   (edit files under --dir, no git)
  repo, mode push    -> updater.landing.push    (clone, commit, push, retry races)
  repo, mode pr      -> updater.landing.pr      (branch, push, open/update PR or MR)

Each mode is imported only when chosen (PyGithub, python-gitlab and GitPython stay unloaded for a
local bump). The caller prints the `Landed` (`updater.landing.output.emit`) or gathers it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from updater.options.request import BumpRequest

if TYPE_CHECKING:
    from updater.auth import RepoAuth
    from updater.landing.output import Landed

RepoMode = Literal["push", "pr"]


def choose_mode(request: BumpRequest) -> RepoMode:
    """--mode, else pr where a forge API is known (a provider flag or a GitHub/GitLab URL), else push."""
    if request.mode == "push":
        return "push"
    if request.mode == "pr":
        return "pr"
    if request.provider or request.api_url:
        return "pr"
    url = (request.repo or "").lower()
    return "pr" if any(host in url for host in ("github.com", "gitlab.com", "github.", "gitlab.")) else "push"


def land_request(request: BumpRequest, env: Mapping[str, str], *, auth: RepoAuth | None = None) -> Landed:
    """Run the request's mode to the end (its log lines included) and return what it would print.
    `auth`: credentials the caller already holds for the repository (promote's), reused."""
    if request.repo is None:
        from updater.landing.local import land_local

        return land_local(request)
    if choose_mode(request) == "push":
        from updater.landing.output import render_push
        from updater.landing.push import land_push
        from updater.landing.settings import settings_from_request

        settings = settings_from_request(request, env, auth=auth)
        return render_push(land_push(settings), settings)
    from updater.landing.pr import propose

    return propose(request, env, auth=auth)
