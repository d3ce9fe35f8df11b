"""The cost of the forge's signed-commit rule: the sandbox's pre-receive hook run directly on one
pushed ssh-signed commit, unprotected, protected without the rule (no verification may run), and with
GitHub's required signatures (`git verify-commit` against the registered keys).

    python bench/bench_signing_hook.py            # 30 runs of each
    python bench/bench_signing_hook.py --runs 100
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.signkeys import ssh_pair, ssh_signing_config  # noqa: E402
from updater_sandbox.forge import Forge  # noqa: E402
from updater_sandbox.state import Protection  # noqa: E402

ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=ENV, check=True, capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    root = Path(tempfile.mkdtemp(prefix="bench-signing-"))
    forge = Forge(root / "forge")
    bare = forge.create_repo("acme/gitops").bare.path
    key = ssh_pair(root / "keys")
    forge.trust_signing_key("bot@example.com", key.public)
    old = _git("rev-parse", "main", cwd=bare)
    work = root / "work"
    _git("clone", "-q", str(bare), str(work), cwd=root)
    _git("-c", "user.name=bot", "-c", "user.email=bot@example.com", *ssh_signing_config(key.path), "commit", "-q",
         "--allow-empty", "-m", "signed", cwd=work)
    _git("push", "-q", "origin", "HEAD:refs/heads/scratch", cwd=work)  # the objects are in the repository
    new = _git("rev-parse", "HEAD", cwd=work)

    def timed(label: str) -> None:
        start = time.perf_counter()
        for _ in range(runs):
            done = subprocess.run([str(bare / "hooks" / "pre-receive")], cwd=bare, env=ENV, capture_output=True,
                                  input=f"{old} {new} refs/heads/main\n", text=True)
            assert done.returncode == 0, done.stderr
        print(f"{label:<45} {(time.perf_counter() - start) / runs * 1000:6.1f} ms per push")

    timed("unprotected branch")
    forge.protect("acme/gitops", "main", Protection(allow_direct_push=True))
    timed("protected, no signature rule")
    forge.require_signatures("acme/gitops", "main")
    timed("required signatures (verify-commit, ssh)")
    forge.stop()
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
