"""The GitLab job entrypoint's pure parts: pipeline defaults and the dotenv report."""

from __future__ import annotations

import pytest

from updater.ci.gitlab import build_argv, dotenv, format_dotenv, section
from updater.ci.report import BumpReport
from updater.errors import BadInput

PIPELINE = {
    "CI_SERVER_URL": "https://gitlab.example.com",
    "CI_API_V4_URL": "https://gitlab.example.com/api/v4",
    "CI_PROJECT_URL": "https://gitlab.example.com/acme/gitops",
}


def test_repo_defaults_to_this_project_with_the_gitlab_api() -> None:
    argv = build_argv({**PIPELINE, "UPDATER_IMAGES": "ghcr.io/acme/api:1.4.2", "UPDATER_AUTO_MERGE": "true",
                       "GITLAB_TOKEN": "glpat-secret"})
    assert argv == [
        "--image", "ghcr.io/acme/api:1.4.2", "--repo", "https://gitlab.example.com/acme/gitops.git",
        "--provider", "gitlab", "--api-url", "https://gitlab.example.com/api/v4", "--auto-merge",
        "--token-env", "GITLAB_TOKEN",
    ]


def test_token_variable_is_configurable_and_checked() -> None:
    argv = build_argv({**PIPELINE, "UPDATER_IMAGES": "a:1", "UPDATER_TOKEN_VARIABLE": "BOT_TOKEN"})
    assert argv[-2:] == ["--token-env", "BOT_TOKEN"]
    with pytest.raises(BadInput, match="UPDATER_TOKEN_VARIABLE"):
        build_argv({**PIPELINE, "UPDATER_IMAGES": "a:1", "UPDATER_TOKEN_VARIABLE": "$(id)"})


def test_dotenv_report_has_every_variable_on_one_line_each() -> None:
    report = BumpReport(outcome="created", changed=True, changed_files=("a.yaml", "b/c.yaml"),
                        commit_sha="abc", pr_url="https://gitlab.example.com/acme/gitops/-/merge_requests/3",
                        pr_number=3)
    assert format_dotenv(dotenv(report)) == (
        "UPDATER_OUTCOME=created\nUPDATER_CHANGED=true\nUPDATER_CHANGED_FILES=a.yaml b/c.yaml\n"
        "UPDATER_COMMIT_SHA=abc\nUPDATER_PR_URL=https://gitlab.example.com/acme/gitops/-/merge_requests/3\n"
        "UPDATER_PR_NUMBER=3\n"
    )
    assert dotenv(None)["UPDATER_OUTCOME"] == "failed"
    with pytest.raises(ValueError):
        format_dotenv({"X": "a\nb"})


def test_log_sections_use_gitlabs_markers() -> None:
    assert section("updater_bump", header="updater bump", now=1700000000) == (
        "\x1b[0Ksection_start:1700000000:updater_bump[collapsed=false]\r\x1b[0Kupdater bump")
    assert section("updater_bump", now=1700000005) == "\x1b[0Ksection_end:1700000005:updater_bump\r\x1b[0K"

