"""`updater demo`: the bundled example is consistent, the story's lines read as intended, and the
whole demo runs (forge, three concurrent bumps, auto-merge, rebase, agent) and cleans up after itself."""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from updater.cli import main
from updater.config import parse_config
from updater_sandbox.schemas import entry_violations
from updater_sandbox.demo import BUMPS, DemoBump, bump_line, example_files, pr_line, run_demo


def test_example_repository_has_the_config_and_every_target_points_at_files() -> None:
    files = example_files()
    config = parse_config(files[".updater.yml"].decode())
    assert set(config.target_names()) == {f"{app}/{env}" for app in ("api", "web", "worker")
                                          for env in ("staging", "production")}
    for name in config.target_names():
        target = config.target(name)
        pattern = re.compile("|".join(p.replace("**", ".*") for p in target.settings["paths"]))
        matched = [path for path in files if pattern.fullmatch(path)]
        assert matched, name
        assert any(target.image.split("/")[-1] in files[path].decode() for path in matched), name  # type: ignore[union-attr]
    kinds = {"kustomization.yaml" in p or "values-" in p or "deployment.yaml" in p for p in files}
    assert kinds == {True, False}  # a mix, plus README/namespace files
    for bump in BUMPS:
        config.target(bump.target)  # every demo bump names a real target


def test_bump_and_pr_lines() -> None:
    report = {"pr_number": 3, "changes": [{"path": "apps/web/staging/deployment.yaml", "kind": "container",
                                           "old": "ghcr.io/acme/web:2.0.3", "new": "ghcr.io/acme/web:2.1.0"}]}
    line = bump_line(report, DemoBump("ghcr.io/acme/web:2.1.0", "web/staging"), auto_merge=True)
    assert line == ("#3  web/staging        ghcr.io/acme/web 2.0.3 -> 2.1.0       "
                    "apps/web/staging/deployment.yaml (container)  auto-merge")
    pull = SimpleNamespace(number=2, title="Bump worker 1.0.0", head="updater/main/worker/production", base="main",
                           labels=["deploy", "production"], requested_reviewers=["alice"], auto_merge=None)
    assert pr_line(pull) == ("#2 'Bump worker 1.0.0'  updater/main/worker/production -> main  "
                             "labels: deploy, production; review: alice")


@pytest.mark.slow
def test_demo_tells_the_whole_story_and_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    out, violations = io.StringIO(), []
    assert run_demo(out, observers=[lambda entry: violations.extend(entry_violations(entry))]) == 0
    story = out.getvalue()
    assert violations == []  # every forge answer the demo caused is inside the GitHub API contract

    bumps = re.findall(r"^      #(\d) +(\S+) +(\S+) (\S+) -> (\S+) .*  (auto-merge|waits for review)$", story, re.M)
    assert sorted((t, old, new, mode) for _, t, _, old, new, mode in bumps) == [
        ("api/staging", "1.4.1", "1.5.0", "auto-merge"),
        ("web/staging", "2.0.3", "2.1.0", "auto-merge"),
        ("worker/production", "0.8.2", "1.0.0", "waits for review"),
    ]
    numbers = {target: number for number, target, *_ in bumps}
    review = numbers["worker/production"]
    assert re.search(rf"^      #{review} 'Bump worker 1.0.0 in worker/production'.*review: alice$", story, re.M)
    assert len(re.findall(r"^      CI green on .* -> merged #\d", story, re.M)) == 2  # one merge per round
    assert re.search(r"^      updater rebase: (#\d updated, )*#\d updated \(bumps re-applied", story, re.M)
    assert f"#{review} stays open, up to date with main, waiting for alice" in story
    assert "Deployment staging/api   runs ghcr.io/acme/api:1.5.0" in story
    assert "Deployment staging/web   runs ghcr.io/acme/web:2.1.0" in story
    assert "Deployment production/api runs ghcr.io/acme/api:1.4.0" in story  # the second cluster, its own tree
    assert "Deployment production/web runs ghcr.io/acme/web:2.0.1" in story
    # the sops-encrypted Secret of the staging tree, decrypted with the operator's key (never printed)
    assert "Secret staging/api-credentials (api-key, database-url) decrypted from sops in memory" in story
    assert "demo-password" not in story and "demo-key-1234" not in story
    # promotion to production, gated on the staging cluster's health as the agent reported it
    assert "'Bump api 1.5.0 in api/production'" in story
    assert "evidence updater/staging: success" in story
    assert '-    newTag: "1.4.1"   # bumped by updater\n+    newTag: "1.5.0"   # bumped by updater' in story
    assert "-          image: ghcr.io/acme/web:2.0.3  # bumped by updater" in story
    assert "values-production.yaml" not in story.split("What changed on main:")[1]  # still in review
    assert re.search(r"Done in [\d.]+s; the forge, the repositories and the cluster were removed\.", story)
    assert list(tmp_path.iterdir()) == []  # nothing left behind


def test_demo_command_is_registered(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["demo", "--help"])
    assert done.value.code == 0 and "--keep" in capsys.readouterr().out
