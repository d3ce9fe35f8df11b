"""What schema validation adds to a validated `updater bump`, on bench_bump.py's example apps.

Each app is bench_bump's: a base Deployment + Service + kustomization, dev/prod overlays (namePrefix,
`images:` newTag) and a Helm values file, all referencing `ghcr.io/acme/api`. The same tree is bumped
alternately by the real CLI with the Kustomize build only (`--no-schema-validation`) and with the
schema check too (the default), each round to a new version; both build the same trees.

    python bench/bench_schema.py                 # 1 app and 50 apps (200 touched files), 3 rounds each
    python bench/bench_schema.py --apps 10 --rounds 5
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.bench_bump import IMAGE, ROOT, deployment, overlay, service, timed, values  # noqa: E402


def generate(root: Path, apps: int) -> None:
    for i in range(apps):
        app = f"app-{i:04d}"
        files = {
            "base/deployment.yaml": deployment(app, f"{IMAGE}:1.4.1", "ghcr.io/acme/proxy:1.0.0"),
            "base/service.yaml": service(app),
            "base/kustomization.yaml": "resources:\n- deployment.yaml\n- service.yaml\n",
            "overlays/dev/kustomization.yaml": overlay("dev", IMAGE, "1.4.1"),
            "overlays/prod/kustomization.yaml": overlay("prod", IMAGE, "1.4.1"),
            "chart/values.yaml": values(IMAGE, "1.4.1"),
        }
        for rel, text in files.items():
            path = root / "apps" / app / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)


def command(tree: Path, version: str, schema: bool) -> list[str]:
    return [sys.executable, "-m", "updater", "-q", "bump", "--image", f"{IMAGE}:{version}", "--dir", str(tree),
            *([] if schema else ["--no-schema-validation"])]


def run(apps: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-schema-") as temp:
        tree = Path(temp) / "tree"
        generate(tree, apps)
        env = {"PYTHONPATH": str(ROOT), "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin"}
        timed(command(tree, "1.4.1", True), env=env)  # warm caches; changes nothing
        build_only, with_schema = [], []
        for round_ in range(rounds):
            build_only.append(timed(command(tree, f"1.5.{2 * round_}", False), env=env))
            with_schema.append(timed(command(tree, f"1.5.{2 * round_ + 1}", True), env=env))
        shutil.rmtree(tree)
    for what, index in (("wall", 0), ("cpu", 1)):  # cpu: user+system of the CLI and kustomize, steadier under load
        a, b = (statistics.median(run[index] for run in runs) for runs in (build_only, with_schema))
        print(f"{apps:>3} app(s), {apps * 4} touched files, {what}: kustomize build only {a:.3f}s, with schema "
              f"{b:.3f}s (+{b - a:.3f}s, ratio {b / a:.2f}x); runs {', '.join(f'{r[index]:.2f}' for r in build_only)}"
              f" / {', '.join(f'{r[index]:.2f}' for r in with_schema)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apps", type=int, action="append")
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    started = time.perf_counter()
    for apps in options.apps or [1, 50]:
        run(apps, options.rounds)
    print(f"total {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
