"""Watch settings read from .updater.yml: merging by layer, the image default, the README example."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from updater.config import parse_config
from updater.errors import BadInput
from updater.registry.policy import FollowPolicy, RegexPolicy, SemverPolicy
from updater.registry.spec import watched_targets

CONFIG = """\
defaults:
  watch: {policy: {semver: "^1"}}
apps:
  api:
    image: ghcr.io/acme/api
    environments:
      staging: {watch: {policy: {semver: "~1.4", prerelease: true}}}
      production: {}
  tool:
    image: ghcr.io/acme/tool
    watch: {image: ghcr.io/acme/tool-slim, policy: {follow: stable}}
    environments: {prod: {}}
"""


def test_layers_merge_key_by_key_and_the_image_defaults_to_the_apps() -> None:
    specs = {s.target: s for s in watched_targets(parse_config(CONFIG))}
    assert sorted(specs) == ["api/production", "api/staging", "tool/prod"]
    staging, production = specs["api/staging"].policy, specs["api/production"].policy
    assert isinstance(staging, SemverPolicy) and staging.range.text == "~1.4" and staging.prerelease
    assert isinstance(production, SemverPolicy) and production.range.text == "^1" and not production.prerelease
    assert specs["api/staging"].image == "ghcr.io/acme/api"
    assert specs["tool/prod"].image == "ghcr.io/acme/tool-slim"
    assert isinstance(specs["tool/prod"].policy, FollowPolicy)
    assert [s.target for s in watched_targets(parse_config(CONFIG), ("api",))] == ["api/staging", "api/production"]
    assert [s.target for s in watched_targets(parse_config(CONFIG), ("tool/prod",))] == ["tool/prod"]
    with pytest.raises(BadInput, match="--target 'nope' is not in"):
        watched_targets(parse_config(CONFIG), ("nope",))


def test_schema_refuses_unknown_watch_keys_and_sort_without_regex() -> None:
    with pytest.raises(BadInput, match=r"apps.api.watch.polcy: unknown key \(known keys: image, policy\)"):
        parse_config("apps:\n  api:\n    watch: {polcy: {semver: '1'}}\n    environments: {prod: {}}\n")
    with pytest.raises(BadInput, match="apps.api.watch.policy: 'regex' is missing"):  # sort is regex's
        parse_config("apps:\n  api:\n    watch: {policy: {semver: '1', sort: numeric}}\n    environments: {prod: {}}\n")
    with pytest.raises(BadInput, match="no image to watch"):
        watched_targets(parse_config("apps:\n  api:\n    watch: {policy: {semver: '1'}}\n    environments: {prod: {}}\n"))


def test_the_readme_example_means_what_the_readme_says() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## updater watch", 1)[1]
    example = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert example
    specs = {s.target: s for s in watched_targets(parse_config(example[1]))}
    assert sorted(specs) == ["api/production", "api/staging", "proxy/production", "worker/production"]
    worker = specs["worker/production"].policy
    assert isinstance(worker, RegexPolicy) and worker.sort == "numeric"
    assert isinstance(specs["proxy/production"].policy, FollowPolicy)
