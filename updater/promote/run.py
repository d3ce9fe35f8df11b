"""One promotion: read the source environment's versions on the branch, check the agent's evidence
on the commit that introduced them (or a later one that still holds them), then land exactly those versions in the target environment
through the bump landing (a `BumpRequest` for `--target APP/TO`, then the PR or push mode as
`updater bump` chooses it). Authentication is `updater.auth`'s (a token or a GitHub App, as for bump);
without a forge token, push mode promotes with --no-verify (nothing reads the API) and the gate is
refused naming what to set. The environment mapping is handed in; nothing here reads `os.environ`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from updater.auth import STATUSES_READ, AppOptions, RepoAuth, forge_auth, open_api
from updater.config import Config
from updater.errors import AuthFailed, BadInput, PolicyRefused
from updater.forges.base import Provider
from updater.forges.settings import ProviderSettings
from updater.options.request import BumpRequest, build_request
from updater.promote.evidence import Verdict, verdict
from updater.promote.source import SourceVersions, source_versions
from updater.retry import API_RETRY

log = logging.getLogger("updater.promote")

POLL = 2.0  # seconds between reads of the statuses while --wait runs


@dataclass(frozen=True)
class Step:
    app: str
    source: str  # environment
    target: str  # environment


def steps(config: Config, app: str, *, source: str | None, target: str | None, following: bool) -> list[Step]:
    """--from/--to as given, or (--next) each environment from its predecessor in `promotion:` order."""
    envs = config.environments(app) if app in config.data.get("apps", {}) else ()
    if not envs:
        config.target(app)  # BadInput naming the known targets
    if following:
        if source or target:
            raise BadInput("--next promotes every environment from its predecessor: give it without --from/--to")
        if not config.promotion:
            raise BadInput(f"--next needs `promotion:` (the environments' order) in {config.source}")
        return [Step(app, a, b) for a, b in zip(envs, envs[1:])]
    if not source or not target:
        raise BadInput("give --from ENV and --to ENV (or --next to follow `promotion:` order)")
    for env in (source, target):
        config.target(f"{app}/{env}")
    if source == target:
        raise BadInput(f"--from and --to are both {source}: promote between two environments")
    return [Step(app, source, target)]


def promote_step(step: Step, config: Config, flags: Mapping[str, Any], env: Mapping[str, str], *,
                 verify: bool, wait: float, land: Callable[[BumpRequest, RepoAuth], int],
                 sleep: Callable[[float], None] = time.sleep) -> int:
    """Promote one step; `flags` are the repository flags passed on to bump (repo, provider, ...);
    `land` lands the bump request (with the credentials the step authenticated with)."""
    from updater.git.workspace import Workspace

    name = f"{step.app}/{step.target}"
    def known(*_: object, **__: object) -> Config:
        return config  # read once by the command: the requests do not clone the repository again for it

    probe = build_request({**flags, "target": name, "image": None}, env, command="bump", remote=known)
    if probe.repo is None:
        raise BadInput("--repo is required: the manifest repository to promote in")
    # a token or a GitHub App (the same options as bump); the gate's reads use it, then the bump does
    auth = forge_auth(probe.repo, env, token_env=probe.token_env, app=AppOptions.from_values(vars(probe), env),
                      provider=probe.provider, api_url=probe.api_url)
    provider = _statuses_api(auth, probe, verify=verify)  # before the clone: a missing token fails fast
    source = config.target(f"{step.app}/{step.source}")
    paths = tuple(source.settings.get("paths", ()))
    with Workspace.clone(auth.url, credentials=auth.credentials, branch=probe.branch, shallow=False) as ws:
        versions: SourceVersions = source_versions(ws.root, paths, image=source.image, where=source.name)
        introduced = ws.last_commit(versions.files) or ws.head()
        # the agent reports the commit it deployed, often a later one than the bump; any commit from the
        # bump to the tip holds the same versions at these paths, so its evidence counts
        holding = ws.first_parent_since(introduced) or [introduced]

    def look() -> Verdict:
        if provider is None:  # --no-verify without a forge API to ask: nothing read, the body says so
            return Verdict(False, introduced, (), "the agent's statuses were not read (no forge token)")
        verdicts = [verdict(commit, provider.commit_statuses(commit)) for commit in holding]
        return next((v for v in verdicts if v.ok), next((v for v in verdicts if v.statuses), verdicts[-1]))

    found: Verdict = look()
    deadline = time.monotonic() + wait
    while verify and not found.ok and time.monotonic() < deadline:
        log.info("waiting for the agent's evidence: %s", found.reason)
        sleep(min(POLL, max(0.0, deadline - time.monotonic())))
        found = look()
    if verify and not found.ok:
        waited = f" after waiting {wait:g}s" if wait else ""
        raise PolicyRefused(f"not promoting {', '.join(versions.refs)} from {step.source} to {step.target}: "
                            f"{found.reason}{waited}; wait for the agent (--wait SECONDS) or use --no-verify")
    log.info("promoting %s from %s to %s (%s)", ", ".join(versions.refs), step.source, step.target, found.reason)
    body = f"Promotes {step.app} from {step.source} to {step.target}.\n\n{found.markdown()}"
    request = build_request({**flags, "target": name, "image": list(versions.refs), "body": body}, env,
                            command="bump", remote=known)
    return land(request, auth)  # the bump reuses the App's installation tokens (no second mint)


def _statuses_api(auth: RepoAuth, probe: BumpRequest, *, verify: bool) -> Provider | None:
    """The forge API the gate reads the agent's statuses from; None when promoting unverified without
    one (push mode to a repository with no forge token: nothing needs the API). The gate without
    credentials is AuthFailed (exit 6), without a known forge BadInput (exit 2), naming what to do."""
    if not auth.can_call_api:
        if verify:
            raise AuthFailed(f"updater promote reads the agent's updater/<cluster> commit statuses on {auth.url} "
                             "through the forge API and has no token: export GITHUB_TOKEN or GITLAB_TOKEN (or name "
                             "one with --token-env, or use --app-id with its private key), or promote unverified "
                             "with --no-verify")
        return None
    if auth.forge is None:
        if verify:
            raise BadInput(f"--repo {auth.url}: cannot tell which forge holds the agent's commit statuses; add "
                           "--provider github|gitlab (and --api-url), or promote unverified with --no-verify")
        return None
    api = ProviderSettings(retry=replace(API_RETRY, attempts=min(probe.retries, API_RETRY.attempts)))
    return open_api(auth.forge, auth, settings=api, permission=STATUSES_READ)
