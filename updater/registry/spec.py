"""The watched targets of a `.updater.yml`: each target's `watch:` settings read into a `WatchSpec`.

    apps:
      api:
        image: ghcr.io/acme/api
        watch: {policy: {semver: "~1.4"}}        # image defaults to the app's image
        environments:
          staging: {}
          production: {watch: {policy: {semver: "~1.3"}}}

`watch` merges key by key, defaults < app < environment (so an environment can change only the
policy); a target is watched when the merged result has a policy. The schema has already checked
the shapes; this reads them, compiles patterns and ranges, and names the key when one is wrong. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from updater.config import Config
from updater.errors import BadInput
from updater.registry.policy import FollowPolicy, Policy, RegexPolicy, SemverPolicy
from updater.registry.semver import InvalidRange, parse_range
from updater.refs import is_tag


@dataclass(frozen=True)
class WatchSpec:
    target: str  # app/environment
    image: str  # name only, as written
    policy: Policy


def watched_targets(config: Config, names: tuple[str, ...] = ()) -> tuple[WatchSpec, ...]:
    """The watched targets (all, or those named: `app` means each of its environments)."""
    specs = []
    for name in config.target_names():
        app, _, env = name.partition("/")
        if names and name not in names and app not in names:
            continue
        spec = _spec(config, app, env)
        if spec is not None:
            specs.append(spec)
    unknown = [n for n in names if n not in config.target_names() and n not in config.data["apps"]]
    if unknown:
        raise BadInput(f"--target {unknown[0]!r} is not in {config.source} (targets: {', '.join(config.target_names())})")
    return tuple(specs)


def _spec(config: Config, app: str, env: str) -> WatchSpec | None:
    app_data = config.data["apps"][app]
    merged: dict[str, Any] = {}
    for layer in (config.data.get("defaults", {}), app_data, app_data["environments"][env]):
        merged.update(layer.get("watch") or {})
    if "policy" not in merged:
        return None
    where = f"{config.source}: apps.{app}.environments.{env}: watch"
    image = merged.get("image") or app_data.get("image")
    if not image:
        raise BadInput(f"{where}: no image to watch; set watch.image or the app's image")
    return WatchSpec(f"{app}/{env}", image, parse_policy(merged["policy"], where=where))


def parse_policy(data: dict[str, Any], *, where: str) -> Policy:
    kinds = [key for key in ("semver", "regex", "follow") if key in data]
    if len(kinds) != 1:
        raise BadInput(f"{where}.policy: give exactly one of semver, regex or follow (found: {', '.join(kinds) or 'none'})")
    if "semver" in data:
        try:
            return SemverPolicy(parse_range(str(data["semver"])), prerelease=bool(data.get("prerelease", False)))
        except InvalidRange as err:
            raise BadInput(f"{where}.policy.semver: {err}") from err
    if "regex" in data:
        try:
            pattern = re.compile(str(data["regex"]))
        except re.error as err:
            raise BadInput(f"{where}.policy.regex: {err}") from err
        sort = data.get("sort", "lexical")
        return RegexPolicy(pattern, sort)
    tag = str(data["follow"])
    if not is_tag(tag):
        raise BadInput(f"{where}.policy.follow: {tag!r} is not a tag")
    return FollowPolicy(tag)
