"""Class 1 of issue 11: templates (commit message, PR title, body, branch) name documented fields only.

`str.format` let `{ci.__class__.__missing__.__globals__...}` walk to the process environment, and
indexing or format specs spell a secret one character at a time past masking.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security.helpers import DEPLOYMENT, run_cli, write_tree
from updater.bump.model import BumpPlan, Change
from updater.errors import BadInput, ExitCode
from updater.landing import pr_body
from updater.landing.message import check_template, ci_context, render_message

PLAN = BumpPlan((Change("deploy.yaml", 3, "container", "ghcr.io/acme/api", "ghcr.io/acme/api:1.4.1",
                        "ghcr.io/acme/api:1.4.2"),), {"deploy.yaml": b""}, {"deploy.yaml": b""}, (), ())
ENV = {"CI_PROJECT_PATH": "acme/api", "CI_JOB_TOKEN": "job-token-abcdef",
       "CI_REPOSITORY_URL": "https://gitlab-ci-token:job-token-abcdef@gitlab.example/acme/api.git"}

ESCAPES = [
    "{ci.__class__.__missing__.__globals__}",
    "{ci.__class__.__missing__.__globals__[__builtins__]}",
    "{ci.__class__.__init__.__globals__[os].environ}",
    "{image.__class__}",
    "{count.real}",
    "{ci[CI_JOB_TOKEN]}",
    "{ci[CI_REPOSITORY_URL]}",  # GitLab's clone URL carries the job token
    "{ci[CI_PROJECT_PATH][0]}",  # per-character: one index at a time defeats masking
    "{ci[CI_PROJECT_PATH].__class__}",
    "{image[0]}",
    "{image!r}",
    "{image:.1}",  # a precision spec slices a value one character at a time
    "{image:{tag}}",
    "{0}",
    "{}",
    "{ci}",
]


@pytest.mark.parametrize("template", ESCAPES)
def test_commit_message_templates_reach_nothing_but_documented_fields(template: str) -> None:
    with pytest.raises(BadInput, match="--message"):
        check_template(template)
    with pytest.raises(BadInput, match="--message"):
        render_message(template, PLAN, ["ghcr.io/acme/api:1.4.2"], ci_context(ENV))


def test_only_allowlisted_ci_variables_are_offered_to_templates() -> None:
    ci = ci_context({**ENV, "CI_COMMIT_SHA": "abc123", "CUSTOM_SECRET_THING": "x" * 10})
    assert set(ci.variables) == {"CI_PROJECT_PATH", "CI_COMMIT_SHA"}
    assert render_message("{ci[CI_PROJECT_PATH]} {ci[CI_COMMIT_TAG]}.", PLAN, ["a/b:1"], ci).startswith("acme/api .")


@pytest.mark.parametrize("template", ["{target!r}", "{target:.1}", "{base[0]}", "{target.__class__}",
                                      "{target:{base}}", "{target", "}"])
def test_pr_title_body_and_branch_templates_are_as_strict(template: str) -> None:
    state = pr_body.ProposalState("api", "main", (pr_body.ProposedBump("ghcr.io/acme/api:1.4.2"),))
    with pytest.raises(BadInput, match="--title"):
        pr_body.title(state, template)
    with pytest.raises(BadInput, match="--body"):
        pr_body.body(state, "", template=template)
    with pytest.raises(BadInput, match="--pr-branch"):
        pr_body.branch_name(template, base="main", target="api", app="api")


def test_literal_braces_and_fields_still_render() -> None:
    text = render_message("{{literal}} {image}:{tag} ({count})", PLAN, ["ghcr.io/acme/api:1.4.2"], ci_context({}))
    assert text == "{literal} ghcr.io/acme/api:1.4.2 (1)\n"


@pytest.mark.parametrize(("message", "why"), [
    ("{ci.__class__.__missing__.__globals__}", "unknown field"),
    ("Bump {image", "malformed template"),
    ("{ci[CI_REPOSITORY_URL]}", "may carry credentials"),
])
def test_a_bad_template_in_updater_yml_is_exit_2_naming_file_and_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], message: str, why: str) -> None:
    config = f"version: 1\napps:\n  api:\n    image: ghcr.io/acme/api\n    environments:\n      prod:\n" \
             f"        message: '{message}'\n"
    tree = write_tree(tmp_path, {"deploy.yaml": DEPLOYMENT, ".updater.yml": config})
    run = run_cli(capsys, "bump", "--dir", str(tree), "--image", "ghcr.io/acme/api:1.4.2", "--target", "api/prod")
    assert run.code == ExitCode.BAD_INPUT
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert ".updater.yml:7: apps.api.environments.prod.message" in lines[0] and why in lines[0]
    assert b"1.4.1" in (tree / "deploy.yaml").read_bytes()  # nothing written


def test_readme_lists_exactly_the_ci_allowlist() -> None:
    import re

    from updater.templates import CI_ALLOWLIST

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme[readme.index("## Security"):readme.index("### The agent")]
    listed = section[section.index("`ci[VAR]` takes only"):section.index("An allowed variable that is unset")]
    assert set(re.findall(r"`((?:CI|GITHUB|GITLAB)_[A-Z_]+)`", listed)) - {"CI_REPOSITORY_URL"} == CI_ALLOWLIST


@pytest.mark.parametrize(("flag", "template"), [("--title", "Bump {target"), ("--pr-branch", "u/{app!r}"),
                                                ("--body", "}"), ("--message", "{image")])
def test_a_bad_template_flag_in_pr_mode_is_one_line_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        flag: str, template: str) -> None:
    from tests.gitrepos import make_remote

    remote = make_remote(tmp_path, {"deploy.yaml": DEPLOYMENT})
    monkeypatch.setenv("GITHUB_TOKEN", "test-token-for-templates")
    mode = "push" if flag == "--message" else "pr"
    run = run_cli(capsys, "bump", "--repo", str(remote), "--mode", mode, "--provider", "github",
                  "--api-url", "http://127.0.0.1:9", "--image", "ghcr.io/acme/api:1.4.2", f"{flag}={template}")
    assert run.code == ExitCode.BAD_INPUT, run.err
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"updater: error: {flag}"), run.err
