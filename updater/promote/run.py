"""One promotion: read the source environment's versions on the branch, check the agent's evidence
on the commit that introduced them (or a later one that still holds them), then land exactly those versions in the target environment
through the bump landing (a `BumpRequest` for `--target APP/TO`, then the PR or push mode as
`updater bump` chooses it). The environment mapping is handed in; nothing here reads `os.environ`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from updater.config import Config
from updater.errors import BadInput, PolicyRefused
from updater.options.request import BumpRequest, build_request
from updater.promote.evidence import Verdict, verdict
from updater.promote.source import SourceVersions, source_versions

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
                 verify: bool, wait: float, land: Callable[[BumpRequest], int],
                 sleep: Callable[[float], None] = time.sleep) -> int:
    """Promote one step; `flags` are the repository flags passed on to bump (repo, provider, ...)."""
    from updater.git.workspace import Workspace
    from updater.landing.pr import PrSettings
    from updater.forges.base import open_provider

    name = f"{step.app}/{step.target}"
    probe = build_request({**flags, "target": name, "image": None}, env, command="bump")
    settings = PrSettings.from_request(replace(probe, image=()), env)  # the forge, the token, early checks
    source = config.target(f"{step.app}/{step.source}")
    paths = tuple(source.settings.get("paths", ()))
    with Workspace.clone(settings.url, credentials=settings.credentials, branch=probe.branch,
                         shallow=False) as ws:
        versions: SourceVersions = source_versions(ws.root, paths, image=source.image, where=source.name)
        introduced = ws.last_commit(versions.files) or ws.head()
        # the agent reports the commit it deployed, often a later one than the bump; any commit from the
        # bump to the tip holds the same versions at these paths, so its evidence counts
        holding = ws.first_parent_since(introduced) or [introduced]
    provider = open_provider(settings.forge, token=settings.credentials.token or "", settings=settings.provider)

    def look() -> Verdict:
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
                            command="bump")
    return land(request)
