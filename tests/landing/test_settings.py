"""Settings are built once from flags + environment, and reject bad input before any clone."""

from __future__ import annotations

import pytest

from updater.cli import build_parser
from updater.errors import AuthFailed, BadInput
from updater.git.identity import Identity
from updater.landing.settings import settings_from_request
from updater.options.request import build_request
from updater.secrets import mask


def parse(*argv: str) -> dict[str, object]:
    return vars(build_parser().parse_args(["bump", "--repo", "https://git.example/acme/gitops.git", "--mode", "push",
                                           *argv]))


def settings_from_args(parsed: dict[str, object], env: dict[str, str]):
    return settings_from_request(build_request(parsed, env), env)


def test_defaults_and_environment() -> None:
    s = settings_from_args(parse("--image", "ghcr.io/acme/api:1.4.2"),
                           {"GITHUB_TOKEN": "gh-token-123456", "GIT_AUTHOR_NAME": "Env A", "GIT_AUTHOR_EMAIL": "a@x"})
    assert (s.retry.attempts, s.retry.timeout, s.retry.wait_base, s.retry.wait_max) == (20, 300.0, 0.25, 15.0)
    assert s.author == Identity("Env A", "a@x") and s.committer is None
    assert s.credentials.source == "$GITHUB_TOKEN" and mask("gh-token-123456") == "***"
    assert s.requested == ("ghcr.io/acme/api:1.4.2",) and s.validate and not s.allow_downgrade


def test_flags_win_over_environment() -> None:
    s = settings_from_args(parse("--image", "a/b:1", "--author", "Flag F <f@x>", "--retries", "3",
                                 "--retry-wait", "0.1", "--retry-wait-max", "0.05"),
                           {"GIT_AUTHOR_NAME": "Env A", "GIT_AUTHOR_EMAIL": "a@x"})
    assert s.author == Identity("Flag F", "f@x")
    assert (s.retry.attempts, s.retry.wait_base, s.retry.wait_max) == (3, 0.1, 0.1)


@pytest.mark.parametrize(("argv", "match"), [
    (("--image", "a/b:1", "--retries", "0"), "--retries 0"),
    (("--image", "a/b:1", "--retry-timeout", "0"), "--retry-timeout 0"),
    (("--image", "a/b:1", "--author", "nobody"), "--author 'nobody'"),
    (("--image", "a/b:1", "--message", "{bad}"), "--message .*unknown field"),
    (("--image", "a/b"), "--image 'a/b': no tag or digest"),
])
def test_bad_flags_are_bad_input(argv: tuple[str, ...], match: str) -> None:
    with pytest.raises(BadInput, match=match):
        settings_from_args(parse(*argv), {})


def test_token_env_must_be_set() -> None:
    with pytest.raises(AuthFailed, match="--token-env MY_TOKEN"):
        settings_from_args(parse("--image", "a/b:1", "--token-env", "MY_TOKEN"), {})
