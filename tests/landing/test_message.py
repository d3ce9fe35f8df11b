"""Commit message templates and CI trailers, on literal plans."""

from __future__ import annotations

import pytest

from updater.bump.model import BumpPlan, Change
from updater.errors import BadInput
from updater.landing.message import DEFAULT_TEMPLATE, ci_context, check_template, render_message, split_reference
from updater.secrets import register_secret

PLAN = BumpPlan(
    changes=(
        Change("apps/api/deploy.yaml", 10, "container", "ghcr.io/acme/api", "ghcr.io/acme/api:1.4.1", "ghcr.io/acme/api:1.4.2"),
        Change("apps/api/values.yaml", 3, "marker-tag", "ghcr.io/acme/api", "1.4.0", "1.4.2"),
    ),
    new_contents={"apps/api/deploy.yaml": b"", "apps/api/values.yaml": b""},
)


def test_default_message_names_the_image_and_each_change() -> None:
    assert render_message(DEFAULT_TEMPLATE, PLAN, ["ghcr.io/acme/api:1.4.2"], ci_context({})) == (
        "Bump ghcr.io/acme/api to 1.4.2\n\n"
        "- apps/api/deploy.yaml:10 ghcr.io/acme/api 1.4.1 → 1.4.2\n"
        "- apps/api/values.yaml:3 ghcr.io/acme/api 1.4.0 → 1.4.2\n"
    )


def test_github_trailers() -> None:
    ci = ci_context({"GITHUB_ACTIONS": "true", "GITHUB_SHA": "abc123", "GITHUB_SERVER_URL": "https://github.com",
                     "GITHUB_REPOSITORY": "acme/api", "GITHUB_RUN_ID": "42"})
    assert render_message("{summary}", PLAN, ["ghcr.io/acme/api:1.4.2"], ci).endswith(
        "to 1.4.2\n\nUpdater-Source-Commit: abc123\nUpdater-Pipeline: https://github.com/acme/api/actions/runs/42\n")


def test_gitlab_trailers_and_ci_variables_but_never_tokens() -> None:
    env = {"CI_COMMIT_SHA": "def456", "CI_PIPELINE_URL": "https://gitlab.example/acme/api/-/pipelines/9",
           "CI_PROJECT_PATH": "acme/api", "CI_JOB_TOKEN": "job-token-xyz1", "GITLAB_TOKEN": "gl-token-xyz2"}
    ci = ci_context(env)
    assert "CI_JOB_TOKEN" not in ci.variables and "GITLAB_TOKEN" not in ci.variables
    text = render_message("{ci[CI_PROJECT_PATH]}::{ci[CI_COMMIT_TAG]}", PLAN, ["ghcr.io/acme/api:1.4.2"], ci)
    assert text == ("acme/api::\n\nUpdater-Source-Commit: def456\n"
                    "Updater-Pipeline: https://gitlab.example/acme/api/-/pipelines/9\n")


def test_placeholders() -> None:
    text = render_message("{image}|{tag}|{images}|{old}|{new}|{files}|{count}", PLAN,
                          ["ghcr.io/acme/api:1.4.2", "ghcr.io/acme/web@sha256:" + "a" * 64], ci_context({}))
    assert text == ("ghcr.io/acme/api|1.4.2|ghcr.io/acme/api:1.4.2, ghcr.io/acme/web@sha256:" + "a" * 64 +
                    "|1.4.1, 1.4.0|1.4.2|apps/api/deploy.yaml, apps/api/values.yaml|2\n")


def test_secrets_are_masked_in_messages() -> None:
    register_secret("sekrit-value-1")
    ci = ci_context({"CI_COMMIT_MESSAGE": "oops sekrit-value-1"})
    assert "sekrit-value-1" not in render_message("{ci[CI_COMMIT_MESSAGE]}", PLAN, ["a/b:1"], ci)


@pytest.mark.parametrize(("template", "match"), [("{nope}", "unknown field {nope}"), ("{image", "--message")])
def test_bad_templates_name_the_flag(template: str, match: str) -> None:
    with pytest.raises(BadInput, match=match):
        check_template(template)


@pytest.mark.parametrize(("text", "expected"), [
    ("ghcr.io/acme/api:1.4.2", ("ghcr.io/acme/api", "1.4.2")),
    ("localhost:5000/api", ("localhost:5000/api", "")),
    ("localhost:5000/api:2@sha256:ab", ("localhost:5000/api", "2@sha256:ab")),
    ("nginx@sha256:ab", ("nginx", "@sha256:ab")),
])
def test_split_reference(text: str, expected: tuple[str, str]) -> None:
    assert split_reference(text) == expected
