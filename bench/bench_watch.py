"""`updater watch --dry-run` over N watched targets against a real local registry (distribution 2.8
from Debian, on 127.0.0.1), with htpasswd (Basic) or token (Bearer challenge) auth.

Sets up N repositories (one skopeo push each, then T extra tags by manifest PUT), a manifest tree
with N apps whose `.updater.yml` watches them (most with `semver: "~1.4"`, every fifth following
`stable` by digest), then times the real CLI in a fresh process, and reads the registry calls per
image from its `--json` report. The registry phase alone is timed in-process too. Besides the wall
time, the CLI process's CPU time (user + sys) is reported: on a shared, loaded machine it moves far
less than the wall time, so before/after comparisons read it first.

    python bench/bench_watch.py                       # 50 targets, basic auth
    python bench/bench_watch.py --auth token --targets 50
    python bench/bench_watch.py --code /tmp/old --code .   # before/after, interleaved on one registry
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.registry.server import Registry  # noqa: E402
from tests.registry.token_server import TokenServer  # noqa: E402

DEPLOY = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {app}}}\nspec:\n  template:\n    spec:\n" \
         "      containers:\n        - name: {app}\n          image: {ref}\n"


def setup(registry: Registry, root: Path, targets: int, tags: int) -> Path:
    def one(i: int) -> tuple[int, str]:
        repo = f"bench/app{i:02d}"
        digest = registry.push(repo, "1.4.0")
        registry.tag(repo, "1.4.0", "stable", *[f"1.4.{n}" for n in range(1, tags - 3)], "1.5.0", "2.0.0-rc.1")
        return i, digest

    with ThreadPoolExecutor(4) as pool:
        digests = dict(pool.map(one, range(targets)))
    tree = root / "tree"
    lines = ["apps:"]
    for i in range(targets):
        app, image = f"app{i:02d}", f"{registry.host}/bench/app{i:02d}"
        follow = i % 5 == 4
        ref = f"{image}:stable@{digests[i]}" if follow else f"{image}:1.4.0"
        (tree / "apps" / app).mkdir(parents=True)
        (tree / "apps" / app / "deploy.yaml").write_text(DEPLOY.format(app=app, ref=ref))
        policy = "{follow: stable}" if follow else '{semver: "~1.4"}'
        lines += [f"  {app}:", f"    image: {image}", f"    paths: [apps/{app}/**]", f"    watch: {{policy: {policy}}}",
                  "    environments: {prod: {}}"]
    (tree / ".updater.yml").write_text("\n".join(lines) + "\n")
    return tree


def run_cli(registry: Registry, tree: Path, code: Path) -> tuple[float, float, dict[str, object]]:
    """(wall s, CPU s of that one process from its wait4 rusage, its --json report)."""
    env = {**os.environ, "DOCKER_AUTH_CONFIG": registry.auth_config(), "PYTHONPATH": str(code)}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "updater", "-q", "watch", "--dir", str(tree), "--dry-run",
                                    "--json", "--insecure-registry", registry.host], stdout=out, stderr=err, env=env,
                                   cwd=code)  # `-m` puts the working directory first on sys.path
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            err.seek(0)
            raise SystemExit(f"watch failed ({process.returncode}): {err.read()[-2000:]}")
        out.seek(0)
        return wall, usage.ru_utime + usage.ru_stime, json.loads(out.read())


def registry_phase(registry: Registry, tree: Path) -> float:
    from updater.config import read_config
    from updater.registry.client import RegistryClient
    from updater.registry.credentials import load_credentials
    from updater.registry.http import RegistryHttp
    from updater.registry.spec import watched_targets
    from updater.registry.watching import decide_all

    specs = watched_targets(read_config(tree / ".updater.yml"))
    http = RegistryHttp(load_credentials({"DOCKER_AUTH_CONFIG": registry.auth_config()}))
    started = time.perf_counter()
    decide_all(RegistryClient(http), specs, insecure=frozenset({registry.host}))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", type=int, default=50)
    parser.add_argument("--tags", type=int, default=12, help="tags per repository")
    parser.add_argument("--auth", choices=("basic", "token"), default="basic")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--code", type=Path, action="append",
                        help="a checkout whose updater the CLI runs (repeatable: runs interleaved on the same "
                             "registry and tree; default: this one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as tmp, ExitStack() as stack:
        root = Path(tmp)
        service = None
        if args.auth == "token":
            service = stack.enter_context(TokenServer(root, user="watcher", password="bench-pw").running())
        registry = stack.enter_context(Registry(root, password="bench-pw", token_service=service))
        started = time.perf_counter()
        tree = setup(registry, root, args.targets, args.tags)
        print(f"setup: {args.targets} repositories x {args.tags} tags in {time.perf_counter() - started:.1f} s")
        codes = [code.resolve() for code in args.code or [ROOT]]
        walls: dict[Path, list[float]] = {code: [] for code in codes}
        cpus: dict[Path, list[float]] = {code: [] for code in codes}
        report: dict[str, object] = {}
        for _ in range(args.runs):
            for code in codes:
                wall, cpu, report = run_cli(registry, tree, code)
                walls[code].append(wall)
                cpus[code].append(cpu)
        phases = [registry_phase(registry, tree) for _ in range(args.runs)]
        targets = report["targets"]
        assert isinstance(targets, list)
        by_kind: dict[str, list[int]] = {}
        for target in targets:
            by_kind.setdefault(str(target["policy"]).split()[0], []).append(int(target["registry_calls"]))
        bumps = sum(1 for t in targets if t["bump"] and t["bump"]["changed"])
        for code in codes:
            print(f"{code}: auth {args.auth}: watch --dry-run over {len(targets)} targets: wall median "
                  f"{statistics.median(walls[code]):.2f} s (runs: {', '.join(f'{w:.2f}' for w in walls[code])}); "
                  f"CPU median {statistics.median(cpus[code]):.2f} s "
                  f"(runs: {', '.join(f'{c:.2f}' for c in cpus[code])})")
        print(f"registry phase median {statistics.median(phases):.2f} s; load {os.getloadavg()[0]:.1f}")
        print(f"registry calls: total {report['registry_calls']}; per image by policy: "
              + "; ".join(f"{kind}: mean {statistics.mean(c):.2f}, first {c[0]}, max {max(c)}" for kind, c in by_kind.items()))
        print(f"targets with a bump planned: {bumps} of {len(targets)}")


if __name__ == "__main__":
    main()
