"""`updater bump` on a large manifest repository versus the naive `grep -rl NAME | xargs sed -i`.

Generates (once, deterministic) a tree of 20,000 YAML files, about 40 MB: per app a base
Deployment + Service + kustomization, dev/prod overlays and a Helm values file. One image,
`ghcr.io/acme/api`, is referenced in exactly 200 files (containers, kustomize `images:`, Helm
values); a few dozen more mention `ghcr.io/acme/api-gateway` so the byte screen has near misses to
parse and reject. Two identical copies are bumped in the same run, alternately, each round to a new
version: one by the real CLI in a subprocess (`python -m updater bump`), one by grep+sed.

    python bench/bench_bump.py                   # 5 rounds, no validation, then 1 validated run
    python bench/bench_bump.py --rounds 3 --no-validated-run
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "bump"
IMAGE = "ghcr.io/acme/api"
FILES = 20_000
TARGET_FILES = 200
PADDING = "\n".join(f"        - name: SETTING_{i:02d}\n          value: \"{'x' * 40}\"" for i in range(18))


def deployment(app: str, image: str, side: str) -> str:
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
  labels:
    app.kubernetes.io/name: {app}
    app.kubernetes.io/part-of: platform   # owned by the platform team
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: {app}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {app}
    spec:
      containers:
      - name: {app}
        image: {image}
        ports:
        - containerPort: 8080
        resources:
          requests: {{cpu: 100m, memory: 128Mi}}
          limits: {{memory: 256Mi}}
        env:
{PADDING}
      - name: sidecar
        image: {side}
"""


def service(app: str) -> str:
    return f"""apiVersion: v1
kind: Service
metadata:
  name: {app}
  annotations:
    description: "{'service for ' + app + ' ' * 1}{'.' * 1200}"
spec:
  selector:
    app.kubernetes.io/name: {app}
  ports:
  - port: 80
    targetPort: 8080
"""


def overlay(env: str, name: str, tag: str) -> str:
    return f"""apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../base
namePrefix: {env}-
commonLabels:
  env: {env}
images:
- name: {name}
  newTag: "{tag}"   # set by CI
# {'-' * 2000}
"""


def values(repository: str, tag: str) -> str:
    return f"""# Helm values
image:
  repository: {repository}
  tag: "{tag}"
  pullPolicy: IfNotPresent
resources:
  limits: {{memory: 256Mi}}
podAnnotations:
  note: "{'v' * 2000}"
"""


def generate(root: Path) -> None:
    """Apps of 6 files each; the first 50 apps use the image (4 referencing files each = 200)."""
    apps = FILES // 6 + 1
    written = 0
    for i in range(apps):
        app = f"app-{i:04d}"
        uses = i < TARGET_FILES // 4
        name = IMAGE if uses else f"ghcr.io/acme/svc-{i:04d}"
        side = f"{IMAGE}-gateway:2.0.0" if TARGET_FILES // 4 <= i < TARGET_FILES // 4 + 30 else "ghcr.io/acme/proxy:1.0.0"
        files = {
            "base/deployment.yaml": deployment(app, f"{name}:1.4.1", side),
            "base/service.yaml": service(app),
            "base/kustomization.yaml": f"resources:\n- deployment.yaml\n- service.yaml\n# {'=' * 1200}\n",
            "overlays/dev/kustomization.yaml": overlay("dev", name, "1.4.1"),
            "overlays/prod/kustomization.yaml": overlay("prod", name, "1.4.1"),
            "chart/values.yaml": values(name, "1.4.1"),
        }
        for rel, text in files.items():
            if written == FILES:
                return
            path = root / "apps" / app / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            written += 1


def tree_stats(root: Path) -> tuple[int, int, int]:
    count = size = hits = 0
    for path in root.rglob("*.yaml"):
        data = path.read_bytes()
        count, size = count + 1, size + len(data)
        hits += f"{IMAGE}:".encode() in data or f"name: {IMAGE}\n".encode() in data or f"repository: {IMAGE}\n".encode() in data
    return count, size, hits


def timed(args: list[str], **kwargs: object) -> tuple[float, float]:
    """(wall seconds, CPU seconds user+system of the command and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, **kwargs)  # type: ignore[call-overload]
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def show(label: str, runs: list[tuple[float, float]]) -> tuple[float, float]:
    wall, cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
    print(f"{label:<34} wall median {wall:.3f}s  cpu median {cpu:.3f}s  "
          f"(wall runs {', '.join(f'{r[0]:.3f}' for r in runs)})")
    return wall, cpu


def updater_cmd(repo: Path, version: str, validate: bool) -> list[str]:
    return [sys.executable, "-m", "updater", "-q", "bump", "--image", f"{IMAGE}:{version}", "--dir", str(repo),
            *([] if validate else ["--no-validate"])]


def grep_sed_cmd(repo: Path, version: str) -> list[str]:
    # The naive CI way: every file mentioning the name, every `name:tag` and `newTag`/`tag` rewritten blindly.
    script = (f"grep -rl --include='*.yaml' '{IMAGE}' . | xargs sed -i -E "
              f"'s#({IMAGE}):[A-Za-z0-9._-]+#\\1:{version}#g; s#(newTag|tag): \"[^\"]*\"#\\1: \"{version}\"#'")
    return ["sh", "-c", script]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-validated-run", action="store_true", help="skip the one run with kustomize validation")
    options = parser.parse_args()

    pristine = OUT / "pristine"
    if not pristine.exists():
        generate(pristine)
    count, size, hits = tree_stats(pristine)
    print(f"tree: {count} files, {size / 1e6:.1f} MB, {hits} reference {IMAGE}")
    ours, theirs = OUT / "updater", OUT / "grep-sed"
    for copy in (ours, theirs):
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(pristine, copy)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    timed(updater_cmd(ours, "1.4.1", False), env=env)  # warm the page cache and bytecode, changes nothing
    updater_times, baseline_times = [], []
    for round_ in range(options.rounds):
        version = f"1.5.{round_}"
        updater_times.append(timed(updater_cmd(ours, version, False), env=env))
        baseline_times.append(timed(grep_sed_cmd(theirs, version), cwd=theirs))
    changed = sum(1 for p in ours.rglob("*.yaml") if f"1.5.{options.rounds - 1}".encode() in p.read_bytes())
    no_match = timed([sys.executable, "-m", "updater", "-q", "bump", "--image", "ghcr.io/acme/none:1",
                      "--dir", str(ours), "--allow-missing", "--no-validate"], env=env)
    ours_wall, ours_cpu = show("updater bump (no validation):", updater_times)
    base_wall, base_cpu = show("grep -rl | xargs sed -i:", baseline_times)
    print(f"ratio updater / grep+sed: wall {ours_wall / base_wall:.1f}x, cpu {ours_cpu / base_cpu:.1f}x; "
          f"files updater changed: {changed}")
    show("no-match run (screen only):", [no_match])
    if not options.no_validated_run:
        show("updater bump with validation:", [timed(updater_cmd(ours, "1.6.0", True), env=env)])
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
