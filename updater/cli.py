"""The command-line edge: parse arguments, configure logging, run one command, map errors to exit codes.

This is the only place that catches `UpdaterError` (one masked line on stderr, its documented exit
code) and unexpected exceptions (traceback, exit 1). Command modules under `updater.commands` are
imported eagerly for their argument definitions, so they must import heavy libraries (PyGithub,
python-gitlab, GitPython) only inside their `run` functions: `updater --help` and a local bump stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback
from collections.abc import Sequence

from updater import __version__
from updater.errors import ExitCode, UpdaterError
from updater.secrets import MaskingFilter, mask

# subcommand -> module under updater.commands exposing `HELP`, `configure(parser)` and `run(args) -> int`
COMMANDS = {
    "bump": "bump",
    "rebase": "rebase",
    "watch": "watch",
    "agent": "agent",
    "sandbox": "sandbox",
    "demo": "demo",
}

log = logging.getLogger("updater")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keep hand-wrapped examples in descriptions; show a flag's default when it says something
    (not for switches, unset values, or help that already names its default)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default in (None, False, [], argparse.SUPPRESS) or "default" in text:
            return text
        if action.option_strings and action.nargs != 0:
            return f"{text} (default: %(default)s)"
        return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="updater",
        formatter_class=_Formatter,
        description=(
            "Change container image references in a GitOps manifest repository and land the change\n"
            "(push or pull request) even when many pipelines race; or, as `updater agent`, apply the\n"
            "repository to a cluster.\n\n"
            "examples:\n"
            "  updater bump --image ghcr.io/acme/api:1.4.2              # edit files under .\n"
            "  updater bump --image ghcr.io/acme/api:1.4.2 --repo URL --mode pr\n"
            "  updater demo                                              # see it all work locally"
        ),
    )
    parser.add_argument("--version", action="version", version=f"updater {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors on stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(f"updater.commands.{module_name}")
        except ModuleNotFoundError as err:
            if err.name != f"updater.commands.{module_name}":
                raise
            continue  # a command not built yet in this checkout
        command = sub.add_parser(
            name, help=module.HELP, description=getattr(module, "DESCRIPTION", module.HELP),
            formatter_class=_Formatter,
        )
        module.configure(command)
        command.set_defaults(_run=module.run)
    return parser


def configure_logging(verbosity: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else (logging.INFO if verbosity < 2 else logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s" if verbosity < 2 else "%(asctime)s %(name)s %(levelname)s %(message)s"))
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("updater").setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return ExitCode.BAD_INPUT
    configure_logging(args.verbose, args.quiet)
    try:
        return int(args._run(args))
    except UpdaterError as err:
        print(f"updater: error: {mask(str(err))}", file=sys.stderr)
        return int(err.exit_code)
    except KeyboardInterrupt:
        print("updater: interrupted", file=sys.stderr)
        return 130
    except Exception:  # a bug: show everything (masked) so it can be reported
        print(mask(traceback.format_exc()), file=sys.stderr, end="")
        print("updater: unexpected error (a bug; please report it with the trace above)", file=sys.stderr)
        return int(ExitCode.UNEXPECTED)
