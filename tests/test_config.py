"""`.updater.yml`: parsing with line-accurate errors, target resolution, and flag precedence."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from tests.gitrepos import make_remote
from updater.commands import bump
from updater.config import parse_config
from updater.errors import BadInput
from updater.options.request import BumpRequest, build_request

CONFIG = """\
version: 1
promotion: [dev, staging, production]
defaults:
  mode: pr
  labels: [deploy]
  pr-branch: "updater/{app}-{environment}"
apps:
  api:
    image: ghcr.io/acme/api
    reviewers: [alice]
    environments:
      production:              # written out of order on purpose
        paths: ["apps/api/overlays/production/**"]
        labels: [deploy, production]
        merge-method: merge
      staging:
        paths: ["apps/api/overlays/staging/**"]
        auto-merge: true
        title: "Deploy {app} to {environment}"
  web:
    environments:
      dev:
        paths: [apps/web/dev.yaml]
        mode: push
        branch: main
"""


def bump_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    bump.configure(parser)
    return parser.parse_args(list(argv))


def apply_config(args: argparse.Namespace, env: dict[str, str]) -> BumpRequest:
    return build_request(vars(args), env)


def resolve_target(config: str | Path, name: str, args: argparse.Namespace) -> BumpRequest:
    """The request with target `name` of `config` (a file, or its text written to one) applied."""
    if isinstance(config, str):
        import tempfile

        directory = Path(tempfile.mkdtemp())
        (directory / ".updater.yml").write_text(config)
        config = directory / ".updater.yml"
    return build_request({**vars(args), "target": name, "config": str(config)}, {})


def test_target_merges_defaults_app_and_environment() -> None:
    target = parse_config(CONFIG).target("api/staging")
    assert (target.app, target.environment, target.image) == ("api", "staging", "ghcr.io/acme/api")
    assert dict(target.settings) == {
        "mode": "pr", "labels": ["deploy"], "pr-branch": "updater/api-staging", "reviewers": ["alice"],
        "paths": ["apps/api/overlays/staging/**"], "auto-merge": True, "title": "Deploy api to staging",
    }


def test_app_alone_means_its_first_environment_in_promotion_order() -> None:
    config = parse_config(CONFIG)
    assert config.target("api").name == "api/staging"
    assert config.target_names() == ("api/staging", "api/production", "web/dev")


def test_config_fills_unset_flags_and_explicit_flags_win() -> None:
    args = bump_args("--image", "ghcr.io/acme/api:1.4.2", "--target", "api/production", "--label", "hotfix",
                     "--auto-merge")
    resolved = resolve_target(CONFIG, "api/production", args)
    assert resolved.label == ("hotfix",)  # the flag wins (lists replace)
    assert resolved.auto_merge is True  # the flag
    assert resolved.merge_method == "merge"  # config over the built-in default
    assert resolved.path == ("apps/api/overlays/production/**",)
    assert resolved.reviewer == ("alice",) and resolved.mode == "pr"
    assert resolved.pr_branch == "updater/api-production"
    assert args.path is None  # the input is not modified


def test_a_flag_equal_to_the_built_in_default_still_beats_the_target() -> None:
    """`--merge-method squash` (the built-in default) overrides a target's `merge-method: merge`."""
    args = bump_args("--image", "ghcr.io/acme/api:1.4.2", "--merge-method", "squash")
    assert resolve_target(CONFIG, "api/production", args).merge_method == "squash"
    assert resolve_target(CONFIG, "api/production", bump_args("--image", "ghcr.io/acme/api:1")).merge_method == "merge"


def test_no_draft_turns_off_a_targets_draft() -> None:
    config = CONFIG.replace("        auto-merge: true\n", "        auto-merge: true\n        draft: true\n")
    assert resolve_target(config, "api/staging", bump_args("--image", "ghcr.io/acme/api:1")).draft is True
    assert resolve_target(config, "api/staging", bump_args("--image", "ghcr.io/acme/api:1", "--no-draft")).draft is False
    assert resolve_target(config, "api/staging",
                          bump_args("--image", "ghcr.io/acme/api:1", "--no-auto-merge")).auto_merge is False


def test_an_image_other_than_the_targets_is_bad_input() -> None:
    args = bump_args("--image", "ghcr.io/acme/web:2", "--target", "api/staging")
    with pytest.raises(BadInput, match=r"--image 'ghcr.io/acme/web:2' is not the image of target api/staging"):
        resolve_target(CONFIG, "api/staging", args)


def test_unknown_target_lists_the_known_ones() -> None:
    with pytest.raises(BadInput, match=r"--target 'api/qa' is not in .updater.yml \(targets: api/staging, "
                                       r"api/production, web/dev\)"):
        parse_config(CONFIG).target("api/qa")


@pytest.mark.parametrize(("text", "message"), [
    (CONFIG.replace("merge-method: merge", "merge-method: fast"),
     ".updater.yml:15: apps.api.environments.production.merge-method: 'fast' is not one of ['merge', 'squash', 'rebase']"),
    (CONFIG.replace("auto-merge: true", "auto-merge: yes"),
     ".updater.yml:18: apps.api.environments.staging.auto-merge: 'yes' is not of type 'boolean'"),
    (CONFIG.replace("    reviewers: [alice]", "    reviewer: [alice]"),
     ".updater.yml:10: apps.api.reviewer: unknown key (known keys: assignees, auto-merge, body, branch, commit-via, draft, environments, "
     "image, kube-version, labels, merge-method, message, mode, paths, policy, pr-branch, reviewers, sign, title, watch)"),
    (CONFIG.replace("version: 1", "version: 2"), ".updater.yml:1: version: 1 was expected"),
    (CONFIG.replace("      dev:\n", "      qa:\n"),
     ".updater.yml:22: apps.web.environments.qa: environment 'qa' is not in promotion (dev, staging, production); add it there"),
    (CONFIG.replace("        paths: [apps/web/dev.yaml]\n", "        paths: apps/web/dev.yaml\n"),
     ".updater.yml:23: apps.web.environments.dev.paths: 'apps/web/dev.yaml' is not of type 'array'"),
    ("apps:\n  api: {}\n", ".updater.yml:2: apps.api: 'environments' is missing"),
    ("apps:\n  api:\n    environments: {a: {}}\n  api:\n    environments: {b: {}}\n", ".updater.yml:4: apps.api: duplicate key"),
    ("apps: [\n", ".updater.yml:2: not valid YAML:"),
    ("", ".updater.yml:1: expected one YAML document, found 0"),
])
def test_invalid_config_names_file_line_and_key(text: str, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse_config(text)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_several_problems_report_the_first_by_line_and_count_the_rest() -> None:
    text = "apps:\n  api:\n    mode: fast\n    environments:\n      dev: {draft: 1}\n"
    with pytest.raises(BadInput, match=r"^.updater.yml:3: apps.api.mode: 'fast' is not one of \['push', 'pr'\] "
                                       r"\(and 1 more problem\)$"):
        parse_config(text)


def test_every_parser_default_is_none_so_given_means_given() -> None:
    assert all(value is None for value in vars(bump_args()).values())


def test_local_mode_reads_the_trees_config_only_with_a_target(tmp_path: Path) -> None:
    (tmp_path / ".updater.yml").write_text(CONFIG)
    plain = apply_config(bump_args("--image", "ghcr.io/acme/web:2", "--dir", str(tmp_path)), {})
    assert (plain.target, plain.mode, plain.path) == (None, None, ())
    resolved = apply_config(bump_args("--image", "ghcr.io/acme/web:2", "--dir", str(tmp_path), "--target", "web"), {})
    assert (resolved.target, resolved.mode, resolved.branch, resolved.path) == ("web/dev", "push", "main",
                                                                                 ("apps/web/dev.yaml",))


def test_explicit_config_file_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "team.yml").write_text(CONFIG)
    resolved = apply_config(bump_args("--image", "ghcr.io/acme/api:1", "--config", str(tmp_path / "team.yml"),
                                      "--target", "api/staging", "--repo", "https://example.test/acme/gitops"), {})
    assert resolved.auto_merge is True
    with pytest.raises(BadInput, match="cannot read config file nope.yml"):
        apply_config(bump_args("--image", "a:1", "--config", "nope.yml", "--target", "api"), {})
    with pytest.raises(BadInput, match="no .updater.yml in"):
        apply_config(bump_args("--image", "a:1", "--dir", str(tmp_path), "--target", "api"), {})
    with pytest.raises(BadInput, match="--config is only used with --target"):
        apply_config(bump_args("--image", "a:1", "--config", str(tmp_path / "team.yml")), {})


def test_repo_mode_reads_the_config_from_the_remote_before_choosing_a_mode(tmp_path: Path) -> None:
    bare = make_remote(tmp_path, {".updater.yml": CONFIG, "apps/web/dev.yaml": "image: ghcr.io/acme/web:1\n"})
    args = bump_args("--image", "ghcr.io/acme/web:2", "--target", "web", "--repo", bare.as_uri())
    resolved = apply_config(args, {})
    assert (resolved.mode, resolved.branch, resolved.path) == ("push", "main", ("apps/web/dev.yaml",))
    empty = make_remote(tmp_path, {"x.yaml": "a: 1\n"}, name="empty.git")
    with pytest.raises(BadInput, match=r"needs a config file: no .updater.yml in file://"):
        apply_config(bump_args("--image", "a:1", "--target", "web", "--repo", empty.as_uri()), {})


def test_an_invalid_config_file_names_its_path_and_line(tmp_path: Path) -> None:
    (tmp_path / ".updater.yml").write_text(CONFIG.replace("merge-method: merge", "merge-method: nope"))
    with pytest.raises(BadInput, match=rf"^{tmp_path}/.updater.yml:15: apps.api.environments.production.merge-method"):
        resolve_target(tmp_path / ".updater.yml", "api/production", bump_args("--image", "ghcr.io/acme/api:1"))


def test_the_shipped_schema_is_a_valid_draft_2020_12_schema() -> None:
    import jsonschema

    from updater.config import schema

    jsonschema.Draft202012Validator.check_schema(schema())


def test_the_readme_example_is_valid_and_means_what_the_readme_says() -> None:
    import re

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## Configuration file (.updater.yml)", 1)[1]
    example = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert example
    config = parse_config(example[1])
    assert config.target("api").name == "api/dev"  # "--target api means api/dev"
    staging = config.target("api/staging").settings
    assert staging["auto-merge"] is True and staging["pr-branch"] == "updater/api-staging"
    assert config.target("api/dev").settings["mode"] == "push"
