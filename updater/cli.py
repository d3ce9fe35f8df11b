"""The command-line edge: parse arguments, configure logging, run one command, map errors to exit codes.

This is the only place that catches `UpdaterError` (one masked line on stderr, its documented exit
code) and unexpected exceptions (traceback, exit 1). Command modules under `updater.commands` are
imported eagerly for their argument definitions (and those other distributions add through the
`updater.commands` entry-point group), so they must import heavy libraries (PyGithub,
python-gitlab, GitPython) only inside their `run` functions: `updater --help` and a local bump stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import logging
import sys
import traceback
from collections.abc import Callable, Sequence

from updater import __version__
from updater.errors import BadInput, ExitCode, UpdaterError
from updater.secrets import MaskingFilter, mask

# subcommand -> module under updater.commands exposing `HELP`, `configure(parser)` and `run(args) -> int`
COMMANDS = {
    "bump": "bump",
    "rebase": "rebase",
    "watch": "watch",
    "promote": "promote",
    "status": "status",
    "agent": "agent",
}
# Commands another distribution adds through the `updater.commands` entry-point group (a module with the
# same three names). The local forge and `updater demo` ship in `updater-sandbox` (sandbox/ in this
# repository), so the product's wheel and image carry no emulator; without it these two explain themselves.
PLUGIN_GROUP = "updater.commands"
PLUGIN_HINTS = {
    "demo": "run the whole loop on a bundled example (needs the updater-sandbox package)",
    "sandbox": "run the local forge (needs the updater-sandbox package)",
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
    modules = {name: f"updater.commands.{module}" for name, module in COMMANDS.items()}
    modules.update(plugin_commands())
    for name, module_name in modules.items():
        module = importlib.import_module(module_name)
        command = sub.add_parser(
            name, help=module.HELP, description=getattr(module, "DESCRIPTION", module.HELP),
            formatter_class=_Formatter,
        )
        module.configure(command)
        command.set_defaults(_run=module.run)
    for name, hint in PLUGIN_HINTS.items():
        if name not in modules:
            command = sub.add_parser(name, help=hint, description=hint, add_help=True)
            command.set_defaults(_run=_missing_plugin(name))
    return parser


def plugin_commands() -> dict[str, str]:
    """Subcommand name -> module, from installed distributions' `updater.commands` entry points."""
    found: dict[str, str] = {}
    for entry in importlib.metadata.entry_points(group=PLUGIN_GROUP):
        if entry.name not in COMMANDS:  # a plugin never replaces a built-in command
            found[entry.name] = entry.value
    return found


def _missing_plugin(name: str) -> Callable[[argparse.Namespace], int]:
    def run(_args: argparse.Namespace) -> int:
        raise BadInput(
            f"`updater {name}` comes with the updater-sandbox package, which is not installed: "
            "run `pip install -e . -e ./sandbox` in a checkout of updater (README, Quick start)"
        )
    return run


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
