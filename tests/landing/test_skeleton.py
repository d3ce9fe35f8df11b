"""The landing skeleton's decisions, shared by push and PR modes: the superseded rule, the dry run,
nothing to do, and the one author choice (on a real clone)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gitrepos import make_remote
from updater.bump.model import BumpPlan, Change
from updater.errors import PolicyRefused, PushRejected
from updater.git.credentials import resolve_credentials
from updater.git.identity import BOT, Identity
from updater.git.workspace import Workspace
from updater.landing.result import LandingResult
from updater.landing.skeleton import NewerInTheWay, Replanned, author_for, land
from updater.retry import RetrySettings

FAST = RetrySettings(attempts=5, wait_base=0.0, wait_max=0.0)
PLAN = BumpPlan(changes=(Change("a.yaml", 1, "container", "ghcr.io/acme/api", "ghcr.io/acme/api:1", "ghcr.io/acme/api:2"),))


class Scripted:
    """A mode whose steps follow a script: per attempt, what `replan` and `publish` do."""

    def __init__(self, replans: list[object], publishes: list[object] | None = None) -> None:
        self.replans, self.publishes, self.calls = replans, publishes or [], []

    def refresh(self, number: int) -> LandingResult | None:
        self.calls.append(f"refresh {number}")
        return None

    def replan(self, number: int) -> Replanned[None]:
        step = self.replans.pop(0)
        if isinstance(step, Exception):
            raise step
        assert isinstance(step, BumpPlan)
        return Replanned(step, None)

    def superseded(self, refusal: NewerInTheWay) -> LandingResult:
        return LandingResult("unchanged", BumpPlan(), "main", "main", warnings=(f"superseded: {refusal.newer}",))

    def nothing_to_do(self, work: Replanned[None]) -> LandingResult:
        return LandingResult("unchanged", work.plan, "main", "main")

    def preview(self, work: Replanned[None]) -> LandingResult:
        self.calls.append("preview")
        return LandingResult("unchanged", work.plan, "main", "main")

    def publish(self, work: Replanned[None]) -> LandingResult:
        self.calls.append("publish")
        step = self.publishes.pop(0) if self.publishes else None
        if isinstance(step, Exception):
            raise step
        return LandingResult("pushed", work.plan, "main", "main", "c0ffee")


def test_refused_on_the_first_look_is_a_plain_refusal() -> None:
    with pytest.raises(PolicyRefused, match="newer"):
        land(Scripted([NewerInTheWay("newer on main", newer="api:3")]), retry=FAST, dry_run=False, what="x")


def test_refused_after_a_lost_race_is_superseded_not_a_failure() -> None:
    mode = Scripted([PLAN, NewerInTheWay("newer on main", newer="api:3")], publishes=[PushRejected("moved")])
    result = land(mode, retry=FAST, dry_run=False, what="x")
    assert result.superseded and result.attempts == 2 and result.outcome == "unchanged"
    assert result.warnings == ("superseded: api:3",)
    assert mode.calls == ["refresh 1", "publish", "refresh 2"]


def test_a_refusal_that_is_not_about_a_newer_version_is_never_superseded() -> None:
    mode = Scripted([PLAN, PolicyRefused("branch not made by updater")], publishes=[PushRejected("moved")])
    with pytest.raises(PolicyRefused, match="not made by updater"):
        land(mode, retry=FAST, dry_run=False, what="x")


def test_dry_run_previews_and_nothing_to_do_publishes_nothing() -> None:
    preview = Scripted([PLAN])
    assert land(preview, retry=FAST, dry_run=True, what="x").outcome == "unchanged" and "publish" not in preview.calls
    empty = Scripted([BumpPlan()])
    assert land(empty, retry=FAST, dry_run=False, what="x").outcome == "unchanged" and empty.calls == ["refresh 1"]


def test_one_author_choice_chosen_then_git_config_then_the_bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bare = make_remote(tmp_path, {"a.yaml": "x: 1\n"})
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    gitconfig = tmp_path / "gitconfig"
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    url, credentials = resolve_credentials(bare.as_uri(), {})
    with Workspace.clone(url, credentials=credentials) as ws:
        assert author_for(ws, None) == BOT
        assert author_for(ws, Identity("Flag F", "f@x")) == Identity("Flag F", "f@x")
    gitconfig.write_text("[user]\n\tname = Config C\n\temail = c@x\n")
    with Workspace.clone(url, credentials=credentials) as ws:
        assert author_for(ws, None) == Identity("Config C", "c@x")
