"""The CI option table: input values -> `updater bump` argv, and coverage of every bump flag."""

from __future__ import annotations

import argparse

import pytest

from updater.ci.options import OPTIONS, parse_bool, split_list, to_argv
from updater.commands import bump
from updater.errors import BadInput


def test_list_inputs_split_on_lines_and_commas() -> None:
    assert split_list("ghcr.io/a/api:1.2\n ghcr.io/a/web:3, ghcr.io/a/db:4 \n\n") == [
        "ghcr.io/a/api:1.2", "ghcr.io/a/web:3", "ghcr.io/a/db:4",
    ]
    assert split_list("") == []


def test_booleans_follow_the_yaml_core_schema() -> None:
    assert parse_bool("true", name="draft") and parse_bool("TRUE", name="draft")
    assert not parse_bool("false", name="draft") and not parse_bool("", name="draft")
    with pytest.raises(BadInput, match="'draft' must be true or false, not 'yes'"):
        parse_bool("yes", name="draft")


def test_argv_has_one_flag_per_item_and_keeps_templates_whole() -> None:
    argv = to_argv({
        "images": "ghcr.io/a/api:1.2\nghcr.io/a/web:3",
        "labels": "deploy,staging",
        "auto-merge": "true",
        "draft": "false",
        "body": "Line one\n\nLine | two\n",
        "retries": " 3 ",
        "branch": "",
    })
    assert argv == [
        "--image", "ghcr.io/a/api:1.2", "--image", "ghcr.io/a/web:3",
        "--retries", "3", "--body", "Line one\n\nLine | two",
        "--label", "deploy", "--label", "staging", "--no-draft", "--auto-merge",
    ]


def test_a_false_input_turns_a_repository_setting_off_and_an_empty_one_keeps_it() -> None:
    # A target's `draft: true` / `auto-merge: true` in .updater.yml: "false" must override it (it
    # used to be left out of argv, so the repository's setting won), "" must not.
    assert to_argv({"draft": "false", "auto-merge": "FALSE"}) == ["--no-draft", "--no-auto-merge"]
    assert to_argv({"draft": "", "auto-merge": " "}) == []
    assert to_argv({"dry-run": "false", "allow-missing": "false"}) == []  # no config key: no --no- form
    parser = argparse.ArgumentParser()
    bump.configure(parser)
    args = parser.parse_args(to_argv({"draft": "false", "auto-merge": "true"}))
    assert args.draft is False and args.auto_merge is True


def _bump_flags() -> set[str]:
    parser = argparse.ArgumentParser()
    bump.configure(parser)
    return {opt for action in parser._actions for opt in action.option_strings if opt.startswith("--")}


def test_every_bump_flag_is_an_option_except_output_format_and_token_plumbing() -> None:
    # (--no-draft / --no-auto-merge are the inputs' "false", see the test below)
    # --allow-remote-resources: local mode only, and an opt-in to fetching what an untrusted
    # repository names; the CI wrappers (which clone) do not offer it.
    # --app-*: GitHub App auth is the action's own `app-id` / `app-private-key` inputs (a secret is
    # never a flag's value, and GitLab has no apps), like the token is `token`; the signing key is the
    # action's `signing-key` input and GitLab's UPDATER_SIGNING_KEY variable (--signing-key-env's default).
    flags = _bump_flags() - {"--help", "--json", "--token-env", "--no-draft", "--no-auto-merge",
                             "--allow-remote-resources", "--app-id", "--app-private-key-env",
                             "--app-private-key-file", "--signing-key-env"}
    assert {option.flag for option in OPTIONS} == flags


def test_every_option_flag_is_accepted_by_the_bump_parser() -> None:
    parser = argparse.ArgumentParser()
    bump.configure(parser)
    from updater.options.table import OPTIONS as ROWS

    choices = {r.ci_input: r.choices[-1] for r in ROWS if r.ci_input and r.choices}  # a valid value of each choice
    values = {o.name: ("true" if o.kind == "bool" else choices[o.name] if o.name in choices
                       else "5" if o.name.startswith("retr") else "x") for o in OPTIONS}
    args = parser.parse_args(to_argv(values))
    assert args.image == ["x"] and args.auto_merge and args.retries == 5 and args.path == ["x"]


def test_the_ci_inputs_are_the_option_tables_rows_with_an_input() -> None:
    from updater.options.table import OPTIONS as ROWS

    assert [(o.name, o.flag) for o in OPTIONS] == [(r.ci_input, r.flag) for r in ROWS if r.ci_input]
