"""The options table is the one source: flags, `.updater.yml` keys + schema, and CI inputs are built
from it or checked against it — shown by adding a synthetic row and watching it appear everywhere."""

from __future__ import annotations

import argparse
import json
from dataclasses import fields, replace
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from updater.ci.options import ci_options, to_argv
from updater.config import parse_config
from updater.options.flags import add_flags
from updater.options.inputs import ACTION_OWN, GITLAB_OWN, check_inputs
from updater.options.request import BumpRequest, build_request
from updater.options.resolve import resolve
from updater.options.schema import config_schema, render
from updater.options.table import OPTIONS, WHAT, Option, for_command

ROOT = Path(__file__).resolve().parents[2]
SYNTHETIC = Option("max_files", "--max-files", "int", "refuse a bump touching more files than this", default=50,
                   reason="a bump touching hundreds of files is usually a wrong --image", group=WHAT, metavar="N",
                   config_key="max-files", ci_input="max-files", ci_help="refuse a bump touching more files")
ROWS = (*OPTIONS, SYNTHETIC)


def parser_for(rows: tuple[Option, ...], command: str = "bump") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_flags(parser, command, rows=rows)  # type: ignore[arg-type]
    return parser


def action_inputs() -> set[str]:
    return set(YAML(typ="safe").load((ROOT / "action.yml").read_text())["inputs"])


def gitlab_inputs() -> set[str]:
    header, _ = YAML(typ="safe").load_all((ROOT / ".gitlab-ci-template.yml").read_text())
    return set(header["spec"]["inputs"])


def test_a_synthetic_row_becomes_a_flag_a_config_key_with_schema_and_a_ci_input() -> None:
    # a flag, with its built-in default in the help and None as the parser default
    parser = parser_for(ROWS)
    assert parser.parse_args(["--max-files", "7"]).max_files == 7
    assert parser.parse_args([]).max_files is None
    assert "(default: 50)" in " ".join(parser.format_help().split())
    # resolved with the usual precedence
    flags = {"max_files": None}
    assert resolve([SYNTHETIC], flags=flags, env={}, layers=[{"max-files": 9}])["max_files"] == 9
    assert resolve([SYNTHETIC], flags=flags, env={}, layers=[])["max_files"] == 50
    assert resolve([SYNTHETIC], flags={"max_files": 50}, env={}, layers=[{"max-files": 9}])["max_files"] == 50
    # a config key, in the schema's settings, validated
    schema = config_schema(ROWS)
    entry = schema["$defs"]["settings"]["properties"]["max-files"]
    assert entry["type"] == "integer" and "--max-files" not in json.dumps(config_schema(OPTIONS))
    validator = jsonschema.Draft202012Validator(schema)
    good = {"apps": {"api": {"environments": {"dev": {"max-files": 3}}}}}
    assert not list(validator.iter_errors(good))
    assert list(validator.iter_errors({"apps": {"api": {"environments": {"dev": {"max-files": "x"}}}}}))
    # a CI input, mapped to the flag
    inputs = ci_options(ROWS)
    assert ("max-files", "--max-files") in [(o.name, o.flag) for o in inputs]
    assert to_argv({"max-files": "7"}, options=inputs) == ["--max-files", "7"]
    # and the check of action.yml and the GitLab component really compares: the new input is missing
    assert check_inputs(action_inputs(), own=ACTION_OWN, rows=ROWS).missing == ("max-files",)
    assert check_inputs(gitlab_inputs(), own=GITLAB_OWN, rows=ROWS).missing == ("max-files",)


def test_action_yml_and_the_gitlab_component_declare_exactly_the_tables_inputs() -> None:
    action = check_inputs(action_inputs(), own=ACTION_OWN)
    gitlab = check_inputs(gitlab_inputs(), own=GITLAB_OWN)
    assert action.ok, action
    assert gitlab.ok, gitlab
    assert check_inputs(action_inputs() | {"surprise"}, own=ACTION_OWN).unknown == ("surprise",)


def test_the_shipped_schema_file_is_the_generated_one() -> None:
    """Regenerate with `python -m updater.options.schema > updater/schemas/updater-config.schema.json`."""
    assert (ROOT / "updater" / "schemas" / "updater-config.schema.json").read_text() == render()


def test_every_row_has_a_reason_and_a_request_field_of_its_default() -> None:
    names = {f.name: f for f in fields(BumpRequest)}
    # governance is the target's `.updater.yml` policy: no flag, no table row (a pipeline cannot turn it off)
    assert set(names) - {"governance"} == {row.dest for row in OPTIONS}
    for row in OPTIONS:
        assert row.reason.strip(), row.dest
        assert names[row.dest].default == row.default or (row.default == () and names[row.dest].default == ()), row.dest


def test_flags_beat_environment_beats_config_beats_default() -> None:
    author = next(row for row in OPTIONS if row.dest == "author")
    env = {"GIT_AUTHOR_NAME": "Env A", "GIT_AUTHOR_EMAIL": "a@x"}
    assert resolve([author], flags={}, env=env)["author"] == "Env A <a@x>"
    assert resolve([author], flags={"author": "F <f@x>"}, env=env)["author"] == "F <f@x>"
    assert resolve([author], flags={}, env={"GIT_AUTHOR_NAME": "only a name"})["author"] is None


def test_no_draft_beats_a_configured_draft_in_the_parser_and_the_request(tmp_path: Path) -> None:
    (tmp_path / ".updater.yml").write_text("defaults: {draft: true}\napps:\n  api:\n    environments: {dev: {}}\n")
    parser = parser_for(OPTIONS)
    base = ["--image", "ghcr.io/acme/api:1", "--dir", str(tmp_path), "--target", "api"]
    assert build_request(vars(parser.parse_args(base)), {}).draft is True
    assert build_request(vars(parser.parse_args([*base, "--no-draft"])), {}).draft is False
    assert build_request(vars(parser.parse_args(["--image", "a:1"])), {}).draft is False


def test_rebase_gets_only_its_rows_and_requires_repo() -> None:
    parser = parser_for(OPTIONS, "rebase")
    with pytest.raises(SystemExit):
        parser.parse_args([])
    request = build_request(vars(parser.parse_args(["--repo", "u", "--all"])), {}, command="rebase")
    assert request.all and request.repo == "u" and request.label == () and request.merge_method == "squash"
    assert {row.flag for row in for_command("rebase")} >= {"--repo", "--all", "--retries", "--pr-branch"}
    assert "--label" not in {row.flag for row in for_command("rebase")}


def test_the_config_accepts_exactly_the_tables_keys() -> None:
    text = "apps:\n  api:\n    environments:\n      dev: {merge-method: rebase, draft: false}\n"
    assert parse_config(text).target("api").settings == {"merge-method": "rebase", "draft": False}
    assert replace(SYNTHETIC, config_key=None).negatable is False
