"""Settings: flags over the config file over defaults, and one-line errors for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from updater.agent.settings import build_settings, load_config_file, parse_duration
from updater.errors import BadInput


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("5m", 300), ("1h", 3600), ("1m30s", 90), ("2.5", 2.5), (7, 7)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text, source="--interval") == seconds


@pytest.mark.parametrize("text", ["soon", "0s", "-3", ""])
def test_bad_durations_name_the_flag(text: str) -> None:
    with pytest.raises(BadInput, match="--interval"):
        parse_duration(text, source="--interval")


def test_flags_make_one_app() -> None:
    settings = build_settings({"repo": "http://x/r.git", "path": "clusters/prod", "prune": True, "interval": 10.0},
                              config=None)
    (app,) = settings.apps
    assert (app.name, app.branch, app.path, app.prune, app.self_heal, app.interval) == (
        "clusters-prod", "main", "clusters/prod", True, False, 10.0)
    assert settings.namespace == "updater-system" and not settings.once


def test_config_file_declares_apps_and_flags_override(tmp_path: Path) -> None:
    config = tmp_path / "agent.yml"
    config.write_text(
        "cluster: prod\nnamespace: gitops\napps:\n"
        "- {name: shop, repo: 'http://x/r.git', path: shop, interval: 1m, prune: true, allowed_namespaces: [shop]}\n"
        "- {name: infra, repo: 'http://x/i.git', branch: release, path: ., self_heal: true}\n"
    )
    settings = build_settings({"self_heal": True, "cluster": None}, config=load_config_file(config), config_name=str(config))
    shop, infra = settings.apps
    assert (settings.cluster, settings.namespace) == ("prod", "gitops")
    assert (shop.interval, shop.prune, shop.allowed_namespaces, shop.self_heal) == (60.0, True, ("shop",), True)
    assert (infra.branch, infra.name, infra.prune) == ("release", "infra", False)


@pytest.mark.parametrize(("text", "message"), [
    ("apps: []\n", "non-empty `apps:` list"),
    ("apps:\n- {repo: r, pruen: true}\n", "unknown key 'pruen'"),
    ("apps:\n- {path: x}\n", "repo is required"),
    ("apps:\n- {repo: r, name: Shop_1}\n", "app name 'Shop_1'"),
    ("apps:\n- {repo: r, prune: 'yes please'}\n", "prune must be true or false"),
    ("apps:\n- {repo: r, name: a}\n- {repo: s, name: a}\n", "used twice"),
    ("apps: [\n", "not valid YAML"),
])
def test_bad_config_files_name_the_file_and_the_problem(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "agent.yml"
    config.write_text(text)
    with pytest.raises(BadInput, match=message) as caught:
        build_settings({}, config=load_config_file(config), config_name=str(config))
    assert "--config" in str(caught.value) or "used twice" in str(caught.value)


def test_nothing_to_follow_is_bad_input() -> None:
    with pytest.raises(BadInput, match="--repo URL"):
        build_settings({}, config=None)
