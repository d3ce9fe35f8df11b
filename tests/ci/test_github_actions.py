"""The GitHub Action entrypoint's pure parts: context defaults, annotations, outputs and summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from updater.ci.github_actions import (
    build_argv,
    error_annotation,
    format_outputs,
    main,
    outputs,
    relay,
    summary_markdown,
    token_variable,
    workspace_path,
)
from updater.ci.report import BumpReport, ReportChange

CONTEXT = {
    "GITHUB_SERVER_URL": "https://github.example.com",
    "GITHUB_API_URL": "https://github.example.com/api/v3",
    "GITHUB_REPOSITORY": "acme/gitops",
}

CHANGE = ReportChange(path="apps/api/deploy.yaml", line=12, kind="container",
                      image="ghcr.io/acme/api", old="ghcr.io/acme/api:1.4.1", new="ghcr.io/acme/api:1.4.2")


def test_repo_defaults_to_this_repository_on_this_github() -> None:
    argv = build_argv({**CONTEXT, "INPUT_IMAGES": "ghcr.io/acme/api:1.4.2", "INPUT_TOKEN": "t0ken-secret"})
    assert argv == [
        "--image", "ghcr.io/acme/api:1.4.2",
        "--repo", "https://github.example.com/acme/gitops.git",
        "--provider", "github", "--api-url", "https://github.example.com/api/v3",
        "--token-env", "INPUT_TOKEN",
    ]
    assert "t0ken-secret" not in " ".join(argv)


def test_a_repo_elsewhere_gets_no_github_provider_defaults() -> None:
    argv = build_argv({**CONTEXT, "INPUT_IMAGES": "a:1", "INPUT_REPO": "https://gitlab.com/acme/gitops",
                       "INPUT_TOKEN": "glpat-0123456789"})
    assert "--provider" not in argv and argv[-2:] == ["--token-env", "INPUT_TOKEN"]
    argv = build_argv({**CONTEXT, "INPUT_IMAGES": "a:1", "INPUT_REPO": "https://gitlab.com/acme/gitops"})
    assert "--token-env" not in argv  # no token input: the CLI falls back to GITLAB_TOKEN / GITHUB_TOKEN


def test_dir_means_local_mode_without_repo_or_token() -> None:
    argv = build_argv({**CONTEXT, "INPUT_IMAGES": "a:1", "INPUT_DIR": "manifests"})
    assert argv == ["--image", "a:1", "--dir", "manifests"]


def test_hyphenated_inputs_are_read_as_the_runner_names_them() -> None:
    argv = build_argv({"INPUT_IMAGES": "a:1", "INPUT_DIR": ".", "INPUT_AUTO-MERGE": "true",
                       "INPUT_MERGE-METHOD": "rebase"})
    assert argv[-3:] == ["--auto-merge", "--merge-method", "rebase"]


def test_error_annotation_points_at_the_file_and_line_named_in_the_message() -> None:
    message = ".updater.yml:7: apps.api.environments.staging.mode: 'fast' is not one of ['push', 'pr']"
    assert error_annotation(message) == (
        "::error file=.updater.yml,line=7::.updater.yml:7: apps.api.environments.staging.mode: "
        "'fast' is not one of ['push', 'pr']"
    )
    assert error_annotation("no reference to x\n100% sure") == "::error::no reference to x%0A100%25 sure"
    assert error_annotation("--image 'registry.example.com:5000/api:1': no such tag").startswith("::error::")
    assert error_annotation("apps/api/values-prod.yml:3: not valid YAML").startswith(
        "::error file=apps/api/values-prod.yml,line=3::")


def test_outputs_are_all_set_and_multiline_safe() -> None:
    report = BumpReport(outcome="created", changed=True, changes=(CHANGE,),
                        changed_files=("apps/api/deploy.yaml", "apps/api/values.yaml"),
                        commit_sha="abc123", pr_url="https://github.example.com/acme/gitops/pull/7", pr_number=7)
    values = outputs(report)
    assert values == {
        "changed": "true", "changed-files": "apps/api/deploy.yaml\napps/api/values.yaml",
        "commit-sha": "abc123", "pr-url": "https://github.example.com/acme/gitops/pull/7", "pr-number": "7",
        "outcome": "created",
    }
    text = format_outputs({"changed-files": values["changed-files"], "pr-number": "7"}, delimiter="EOF_1")
    assert text == "changed-files<<EOF_1\napps/api/deploy.yaml\napps/api/values.yaml\nEOF_1\npr-number<<EOF_1\n7\nEOF_1\n"
    with pytest.raises(ValueError):
        format_outputs({"x": "a\nEOF_1\nb"}, delimiter="EOF_1")


def test_failed_run_still_sets_every_output() -> None:
    assert outputs(None) == {"changed": "false", "changed-files": "", "commit-sha": "", "pr-url": "",
                             "pr-number": "", "outcome": "failed"}


def test_summary_is_a_markdown_table_of_the_changes() -> None:
    report = BumpReport(outcome="created", changed=True, changes=(CHANGE,), changed_files=(CHANGE.path,),
                        pr_url="https://h/acme/gitops/pull/7", pr_number=7, warnings=("skipped a|b.yaml",))
    assert summary_markdown(report) == (
        "### updater bump\n\nOpened pull request [#7](https://h/acme/gitops/pull/7)\n\n"
        "| File | Line | Kind | Old | New |\n| --- | ---: | --- | --- | --- |\n"
        "| <code>apps/api/deploy.yaml</code> | 12 | container | <code>ghcr.io/acme/api:1.4.1</code> | "
        "<code>ghcr.io/acme/api:1.4.2</code> |\n\n"
        "> warning: skipped a\\|b.yaml\n"
    )
    assert summary_markdown(None, error="bad --image") == "### updater bump failed\n\nbad --image\n"


def test_changed_files_are_relative_to_the_workspace() -> None:
    assert workspace_path("deploy.yaml", dir="manifests", workspace="/github/workspace") == "manifests/deploy.yaml"
    assert workspace_path("a/b.yaml", dir="./m/../gitops/", workspace="/w") == "gitops/a/b.yaml"
    assert workspace_path("b.yaml", dir="/github/workspace/gitops", workspace="/github/workspace") == "gitops/b.yaml"
    assert workspace_path("b.yaml", dir="/elsewhere", workspace="/github/workspace") == "/elsewhere/b.yaml"
    assert workspace_path("apps/b.yaml", dir="", workspace="/w") == "apps/b.yaml"  # a clone: its own root


def test_token_order_is_input_then_step_env_then_github_token() -> None:
    repo, gitlab = "https://github.example.com/acme/gitops", "https://gitlab.example.com/acme/gitops"
    every = {"INPUT_TOKEN": "i", "GH_TOKEN": "a", "GITHUB_TOKEN": "b", "GITLAB_TOKEN": "c", "UPDATER_GITHUB_TOKEN": "d"}

    def pick(env: dict[str, str], url: str = repo, provider: str = "", here: bool = True) -> str | None:
        return token_variable(env, repo=url, provider=provider, on_this_github=here)

    assert pick(every) == "INPUT_TOKEN"
    assert pick({**every, "INPUT_TOKEN": " "}) == "GH_TOKEN"
    assert pick({"GITHUB_TOKEN": "b", "GITLAB_TOKEN": "c"}) == "GITHUB_TOKEN"
    assert pick({"GITHUB_TOKEN": "b", "GITLAB_TOKEN": "c"}, url=gitlab, here=False) == "GITLAB_TOKEN"
    assert pick({"GH_TOKEN": "a", "GITLAB_TOKEN": "c"}, url="https://git.example.com/x", provider="gitlab") == "GITLAB_TOKEN"
    assert pick({"UPDATER_GITHUB_TOKEN": "d"}) == "UPDATER_GITHUB_TOKEN"
    assert pick({"UPDATER_GITHUB_TOKEN": "d"}, url=gitlab, here=False) is None  # github.token is for this GitHub


def test_relayed_log_has_workflow_commands_stopped_until_a_random_token() -> None:
    assert relay("a\n::error::x\n", resume="tok") == "::stop-commands::tok\na\n::error::x\n::tok::\n"
    assert relay("no newline", resume="t") == "::stop-commands::t\nno newline\n::t::\n"
    assert relay("", resume="t") == ""


def test_repository_text_in_the_summary_is_inert_markdown() -> None:
    hostile = ReportChange(path="a`|<img src=x onerror=alert(1)>\n# b.yaml", line=1, kind="container",
                           image="i", old="i:1", new="i:2")
    text = summary_markdown(BumpReport(outcome="pushed", changed=True, changes=(hostile,), changed_files=(hostile.path,),
                                       commit_sha="abc", branch="main", warnings=("skipped x\n::error::y",)))
    row = [line for line in text.splitlines() if line.startswith("| <code>a")]
    assert row == ["| <code>a&#96;\\|&lt;img src=x onerror=alert(1)&gt; # b.yaml</code> | 1 | container | "
                   "<code>i:1</code> | <code>i:2</code> |"]
    assert "> warning: skipped x ::error::y" in text and "\n::error" not in text


def test_the_signing_key_input_reaches_the_cli_by_name_and_is_masked_line_by_line(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\nsecondlineofthekey0123\n" \
          "-----END OPENSSH PRIVATE KEY-----\n"
    env = {**CONTEXT, "INPUT_IMAGES": "a:1", "INPUT_TOKEN": "t0ken-secret", "INPUT_SIGN": "ssh",
           "INPUT_SIGNING-KEY": key}
    argv = build_argv(env)
    assert argv[argv.index("--sign") + 1] == "ssh"
    assert argv[argv.index("--signing-key-env") + 1] == "INPUT_SIGNING-KEY"
    assert "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ" not in " ".join(argv)
    # a local run over an empty directory: only what main prints before the run matters here
    main({**env, "INPUT_DIR": str(tmp_path), "INPUT_ALLOW-MISSING": "true", "GITHUB_OUTPUT": str(tmp_path / "out"),
          "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"), "GITHUB_WORKSPACE": str(tmp_path)})
    printed = capsys.readouterr().out
    assert "::add-mask::b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ" in printed
    assert "::add-mask::secondlineofthekey0123" in printed
