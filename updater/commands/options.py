"""Flags shared by the commands that clone a repository (`bump --repo`, `rebase`): one definition,
so their names, defaults and help never drift apart."""

from __future__ import annotations

import argparse
import math

from updater.errors import BadInput

# argparse groups and parsers both offer add_argument
Group = argparse.ArgumentParser | argparse._ArgumentGroup


def add_token_option(group: Group) -> None:
    group.add_argument("--token-env", metavar="VAR",
                       help="environment variable holding the token (default: GITHUB_TOKEN or GITLAB_TOKEN)")


def add_identity_options(group: Group) -> None:
    group.add_argument("--author", metavar="'NAME <EMAIL>'",
                       help="commit author (default: GIT_AUTHOR_NAME/EMAIL, git config, then updater-bot)")
    group.add_argument("--committer", metavar="'NAME <EMAIL>'", help="committer (default: the author)")


def add_retry_options(group: Group) -> None:
    group.add_argument("--retries", type=int, default=20, metavar="N",
                       help="attempts at most for push races and transient failures (1: no retry)")
    group.add_argument("--retry-timeout", type=float, default=300.0, metavar="SECONDS",
                       help="give up retrying after this long in total")
    group.add_argument("--retry-wait", type=float, default=0.25, metavar="SECONDS",
                       help="smallest backoff step (a failed attempt's duration if longer); each retry waits "
                            "a random time up to step x 2^n (full jitter)")
    group.add_argument("--retry-wait-max", type=float, default=15.0, metavar="SECONDS",
                       help="cap on any single wait between attempts")


def check_retry_options(args: argparse.Namespace) -> None:
    """`float()` accepts "nan" and "inf": a NaN timeout compares false with everything (never times
    out) and an infinite wait sleeps forever. Refused here, before anything is cloned (exit 2)."""
    for flag in ("--retry-timeout", "--retry-wait", "--retry-wait-max"):
        value = getattr(args, flag.removeprefix("--").replace("-", "_"), None)
        if value is not None and not math.isfinite(value):
            raise BadInput(f"{flag} {value}: give a finite number of seconds")


def add_forge_options(group: Group) -> None:
    group.add_argument("--provider", choices=("github", "gitlab"), help="forge type when the URL does not tell")
    group.add_argument("--api-url", metavar="URL", help="API base URL (GitHub Enterprise, self-managed GitLab)")
