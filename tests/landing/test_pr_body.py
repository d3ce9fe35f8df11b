"""The PR's state marker, the merge of proposals, naming and rendering (pure, literal values)."""

from __future__ import annotations

import pytest

from updater.bump.model import Change
from updater.errors import BadInput
from updater.landing.pr_body import (
    ProposalState,
    ProposedBump,
    body,
    branch_name,
    commit_message,
    emit_marker,
    merge_bumps,
    parse_marker,
    source_links,
    table_from_message,
    target_name,
    title,
)

API_141 = ProposedBump("ghcr.io/acme/api:1.4.1", ("apps/api/**",))
API_142 = ProposedBump("ghcr.io/acme/api:1.4.2", ("apps/api/**",))
WEB_2 = ProposedBump("ghcr.io/acme/web:2.0.0")


def test_marker_round_trips_through_text():
    state = ProposalState("api", "main", (API_142, WEB_2), base_sha="a" * 40, head="b" * 40, auto_merge="squash")
    text = f"hello\n\n{emit_marker(state)}\n"
    assert parse_marker(text) == state


def test_marker_cannot_be_closed_by_its_content():
    state = ProposalState("a-->b", "main", (API_142,))
    marker = emit_marker(state)
    assert marker.count("-->") == 1 and parse_marker(marker) == state


def test_unknown_merge_method_in_a_marker_is_dropped():
    marker = emit_marker(ProposalState("api", "main", (API_142,))).replace('"base":', '"auto_merge":"yolo","base":')
    assert parse_marker(marker) == ProposalState("api", "main", (API_142,))


def test_foreign_or_broken_markers_are_not_ours():
    assert parse_marker("no marker") is None
    assert parse_marker('<!-- updater:state {"v":99,"target":"x","base":"m"} -->') is None
    assert parse_marker('<!-- updater:state {"v":1,"target":"x","base":"m","bumps":[{"ref":"NOT A REF"}]} -->') is None


def test_new_image_is_added():
    merged = merge_bumps([API_141], [WEB_2])
    assert merged.bumps == (API_141, WEB_2) and merged.added == ("ghcr.io/acme/web:2.0.0",)


def test_newer_version_supersedes():
    merged = merge_bumps([API_141, WEB_2], [API_142])
    assert merged.bumps == (API_142, WEB_2)
    assert merged.superseded == (("ghcr.io/acme/api:1.4.1", "ghcr.io/acme/api:1.4.2"),)


def test_older_version_never_replaces_a_newer_one():
    merged = merge_bumps([API_142], [API_141])
    assert merged.bumps == (API_142,) and merged.refused == (("ghcr.io/acme/api:1.4.2", "ghcr.io/acme/api:1.4.1"),)


def test_older_version_replaces_when_downgrades_are_allowed():
    assert merge_bumps([API_142], [API_141], allow_downgrade=True).bumps == (API_141,)


def test_same_image_spelled_differently_is_one_entry():
    merged = merge_bumps([ProposedBump("nginx:1.25")], [ProposedBump("docker.io/library/nginx:1.26")])
    assert [b.ref for b in merged.bumps] == ["docker.io/library/nginx:1.26"]


def test_repeating_a_bump_changes_nothing():
    merged = merge_bumps([API_142], [API_142])
    assert merged.bumps == (API_142,) and not (merged.superseded or merged.refused or merged.added)


def test_target_from_first_path_up_to_the_glob():
    assert target_name(target=None, paths=["apps/api/overlays/staging/**", "x"], images=[]) == "apps/api/overlays/staging"


def test_target_from_image_app_name():
    assert target_name(target=None, paths=[], images=["ghcr.io/acme/api:1.4.2"]) == "api"


def test_explicit_target_wins():
    assert target_name(target="api-prod", paths=["apps/**"], images=["x:1"]) == "api-prod"


def test_default_branch_name():
    assert branch_name(None, base="main", target="apps/api/overlays/staging", app="api") == \
        "updater/main/apps/api/overlays/staging"


def test_branch_name_is_made_a_valid_ref():
    assert branch_name("bot/{target}", base="main", target="a b/../c.lock/~x", app="a") == "bot/a-b/c/x"


def test_unknown_template_field_names_the_flag():
    with pytest.raises(BadInput, match=r"--pr-branch .*\{env\}"):
        branch_name("u/{env}", base="main", target="t", app="a")


def test_default_title():
    assert title(ProposalState("api", "main", (API_142,))) == "Bump api 1.4.2"
    assert title(ProposalState("apps/x", "main", (API_142, WEB_2))) == "Bump api 1.4.2, web 2.0.0 in apps/x"


def test_title_template():
    assert title(ProposalState("api", "prod", (API_142,)), "deploy {image} to {base}") == \
        "deploy ghcr.io/acme/api:1.4.2 to prod"


CHANGE = Change("apps/api/deploy.yaml", 7, "container", "ghcr.io/acme/api", "ghcr.io/acme/api:1.4.1",
                "ghcr.io/acme/api:1.4.2")


def test_commit_message_carries_table_and_marker():
    state = ProposalState("api", "main", (API_142,), base_sha="b" * 40)
    message = commit_message(state, [CHANGE], title_text="Bump api 1.4.2")
    assert message.splitlines()[0] == "Bump api 1.4.2"
    assert table_from_message(message).splitlines()[2] == \
        "| `apps/api/deploy.yaml` | 7 | container | `ghcr.io/acme/api:1.4.1` | `ghcr.io/acme/api:1.4.2` |"
    assert parse_marker(message) == state


def test_body_has_user_text_table_links_and_marker():
    bump = ProposedBump("ghcr.io/acme/api:1.4.2", source="https://ci/commit/1", pipeline="https://ci/p/2")
    state = ProposalState("api", "main", (bump,))
    text = body(state, "| table |", template="Release {tag} of {name}")
    assert text.startswith("Release 1.4.2 of ghcr.io/acme/api\n")
    assert "| table |" in text
    assert "- `ghcr.io/acme/api:1.4.2`: [source commit](https://ci/commit/1), [pipeline](https://ci/p/2)" in text
    assert parse_marker(text) == state


def test_source_links_github_actions():
    env = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/api", "GITHUB_SHA": "abc",
           "GITHUB_RUN_ID": "42", "GITHUB_SERVER_URL": "https://github.com"}
    assert source_links(env) == ("https://github.com/acme/api/commit/abc", "https://github.com/acme/api/actions/runs/42")


def test_source_links_gitlab_ci():
    env = {"GITLAB_CI": "true", "CI_PROJECT_URL": "https://gitlab.com/acme/api", "CI_COMMIT_SHA": "abc",
           "CI_PIPELINE_URL": "https://gitlab.com/acme/api/-/pipelines/7"}
    assert source_links(env) == ("https://gitlab.com/acme/api/-/commit/abc", "https://gitlab.com/acme/api/-/pipelines/7")


def test_no_ci_no_links():
    assert source_links({}) == (None, None)
