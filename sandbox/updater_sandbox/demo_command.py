"""`updater demo`: see bump, pull requests, auto-merge, rebase and the agent work, locally, in seconds.

The work is in `updater_sandbox.demo`, imported only when the command runs.
"""

from __future__ import annotations

import argparse

HELP = "run the whole loop on a bundled example, on this machine (local forge and cluster, no network)"
DESCRIPTION = """\
Start a local forge with an example manifest repository, run three `updater bump` pipelines at once
(pull requests on a protected branch), let simulated CI pass so auto-merge merges them, rebase what
fell behind, and let `updater agent` apply the result to an emulated Kubernetes API. Prints what
happened and the final diff; everything runs on 127.0.0.1 and is removed at the end.

examples:
  updater demo
  updater demo --keep      # keep the forge's repositories to look around afterwards
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory and print its path")


def run(args: argparse.Namespace) -> int:
    import sys

    from updater_sandbox.demo import run_demo

    return run_demo(sys.stdout, keep=args.keep)
