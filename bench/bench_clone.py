"""Clone strategies of the git workspace on a big manifest repository, served by git http-backend.

Generates a repository of 20,000 files (1,000 apps x 20 manifests) with a long history (default 400
commits, each rewriting 50 files), then times `Workspace.clone` — the code push mode runs — three ways:

  full            whole history of the branch (shallow=False)
  shallow         --depth 1 --single-branch (push mode's default)
  partial+sparse  --depth 1 --filter=blob:none + non-cone sparse checkout of one app (with --path)

Reports wall time (best of --repeat), bytes under .git, and files checked out.

    python bench/bench_clone.py                 # 20,000 files, 400 commits
    python bench/bench_clone.py --apps 100 --commits 50
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from updater.git.credentials import resolve_credentials  # noqa: E402
from updater.git.workspace import Workspace  # noqa: E402
from updater_sandbox.git_http import GitHttpServer  # noqa: E402

TOKEN = "bench-clone-token-42"
KINDS = [f"manifest-{k:02d}.yaml" for k in range(20)]


def manifest(app: int, kind: str, version: int) -> bytes:
    return (f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{app:04d}-{kind}\n"
            f"spec:\n  template:\n    spec:\n      containers:\n        - name: main\n"
            f"          image: ghcr.io/acme/app-{app:04d}:1.{version}.0\n").encode()


def generate(bare: Path, apps: int, commits: int, per_commit: int) -> None:
    """Build the history with one `git fast-import` stream (seconds, not minutes)."""
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    rng = random.Random(7)
    lines: list[bytes] = []

    def commit(number: int, files: list[tuple[str, bytes]]) -> None:
        message = f"commit {number}\n".encode()
        lines.append(b"commit refs/heads/main\n")
        lines.append(f"committer Bench <bench@example.test> {1700000000 + number} +0000\n".encode())
        lines.append(f"data {len(message)}\n".encode() + message)
        for path, data in files:
            lines.append(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")

    commit(0, [(f"apps/app-{a:04d}/{k}", manifest(a, k, 0)) for a in range(apps) for k in KINDS])
    for number in range(1, commits + 1):
        picks = [(rng.randrange(apps), rng.choice(KINDS)) for _ in range(per_commit)]
        commit(number, [(f"apps/app-{a:04d}/{k}", manifest(a, k, number)) for a, k in picks])
    subprocess.run(["git", "fast-import", "--quiet"], cwd=bare, input=b"".join(lines), check=True)
    subprocess.run(["git", "gc", "-q", "--aggressive"], cwd=bare, check=True)


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def measure(url: str, strategy: str, repeat: int, tmp: Path) -> tuple[float, int, int, str]:
    _, credentials = resolve_credentials(url, {"GITHUB_TOKEN": TOKEN})
    best = float("inf")
    for _ in range(repeat):
        started = time.monotonic()
        workspace = Workspace.clone(url, credentials=credentials, branch="main", parent=tmp,
                                    shallow=strategy != "full",
                                    sparse=["apps/app-0042/**"] if strategy == "partial+sparse" else (),
                                    timeout=600)
        best = min(best, time.monotonic() - started)
        git_bytes = size(workspace.root / ".git")
        files = sum(1 for p in workspace.root.rglob("*") if p.is_file() and ".git" not in p.relative_to(workspace.root).parts)
        actual = workspace.strategy
        workspace.close()
    return best, git_bytes, files, actual


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apps", type=int, default=1000, help="apps x 20 files each")
    parser.add_argument("--commits", type=int, default=400)
    parser.add_argument("--per-commit", type=int, default=50, help="files rewritten per commit")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("GIT_CONFIG_GLOBAL", os.devnull)
    with tempfile.TemporaryDirectory(prefix="bench-clone-") as tmp_name:
        tmp = Path(tmp_name)
        bare = tmp / "srv" / "acme" / "big.git"
        bare.parent.mkdir(parents=True)
        started = time.monotonic()
        generate(bare, args.apps, args.commits, args.per_commit)
        print(f"generated {args.apps * len(KINDS)} files, {args.commits + 1} commits, "
              f"{size(bare) / 1e6:.1f} MB packed, in {time.monotonic() - started:.1f} s")
        with GitHttpServer(bare.parent.parent, token=TOKEN) as server:
            url = server.repo_url("acme/big.git")
            rows = [(s, *measure(url, s, args.repeat, tmp)) for s in ("full", "shallow", "partial+sparse")]
    print(f"| strategy | clone wall (best of {args.repeat}) | .git size | files checked out |")
    print("| --- | --- | --- | --- |")
    for strategy, wall, git_bytes, files, actual in rows:
        label = strategy if actual == strategy or strategy == "full" else f"{strategy} (fell back: {actual})"
        print(f"| {label} | {wall:.2f} s | {git_bytes / 1e6:.1f} MB | {files} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
