"""Issue 11, class 5 (agent side): YAML bombs and deep documents are refused early, per app.

A 553-byte alias bomb took the agent to MemoryError after 43 s; a 990-deep manifest raised
RecursionError that escaped the per-app handling. Every load of the agent has limits; a violation
is one line."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.agent.conftest import GitOpsRepo, agent_namespace, gitops, make_agent  # noqa: F401 (fixture)
from updater.agent import yamldocs
from updater.agent.render import RenderError, parse_documents
from updater.cli import main
from updater_sandbox.kube.server import KubeApiServer


def alias_bomb(levels: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghijk"[: levels - 1]:
        lines.append(f"{name}: &{name} [{','.join(['*' + previous] * 9)}]")
        previous = name
    return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb, namespace: shop}\ndata:\n" + "".join(
        f"  {line}\n" for line in lines)


def deep_block(depth: int) -> str:
    return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\nx:\n" + "".join(
        "  " * (i + 1) + "k:\n" for i in range(depth)) + "  " * (depth + 1) + "v: 1\n"


def test_an_alias_bomb_is_refused_at_once() -> None:
    bomb = alias_bomb()
    assert len(bomb) < 600
    started = time.monotonic()
    with pytest.raises(RenderError, match="bomb.yaml: refused: line .*alias bomb"):
        parse_documents(bomb, source="bomb.yaml")
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("text", [deep_block(990), "x: " + "[" * 990 + "]" * 990 + "\n",
                                  "x: " + "{a: " * 400 + "1" + "}" * 400 + "\n"])
def test_deep_documents_are_refused_with_one_line(text: str) -> None:
    with pytest.raises(RenderError, match=f"refused: line \\d+: nested over {yamldocs.MAX_DEPTH} levels") as caught:
        parse_documents(text, source="deep.yaml")
    assert "\n" not in str(caught.value)


def test_oversized_text_is_refused_before_parsing() -> None:
    with pytest.raises(yamldocs.YAMLLimitExceeded, match="over the limit"):
        yamldocs.load_all(b"a: b\n" * (yamldocs.MAX_BYTES // 5 + 1))


def test_ordinary_anchors_and_deep_but_legal_documents_still_load() -> None:
    docs = yamldocs.load_all("a: &x {b: 1}\nc: *x\n---\n" + deep_block(100).split("x:\n", 1)[1].join(["x:\n", ""]))
    assert docs[0] == {"a": {"b": 1}, "c": {"b": 1}}
    assert yamldocs.load('host: "*.example.com"\nlist: [1, [2, [3]]]\n') == {"host": "*.example.com",
                                                                              "list": [1, [2, [3]]]}


def test_the_agent_reports_a_bomb_as_that_apps_error(kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo,
                                                     tmp_path: Path) -> None:
    agent_namespace(kube_api)
    gitops.commit({"clusters/prod/bomb.yaml": alias_bomb()}, "bomb")
    agent = make_agent(kubeconfig, gitops, tmp_path)
    status = agent.sync_app(agent.settings.apps[0])
    assert status.health == "Degraded" and len(status.errors) == 1 and "\n" not in status.errors[0]
    assert "clusters/prod/bomb.yaml: refused" in status.errors[0]
    assert kube_api.get("v1", "Namespace", "shop") is None  # nothing applied from a half-trusted render


def test_bombs_in_the_agent_config_and_kubeconfig_exit_2(tmp_path: Path, kubeconfig: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "agent.yml"
    config.write_text(alias_bomb().replace("apiVersion: v1\n", "apps: [{repo: x}]\n", 1))
    assert main(["agent", "--config", str(config), "--once", "--kubeconfig", str(kubeconfig)]) == 2
    err = capsys.readouterr().err
    assert f"--config {config}: not valid YAML" in err and len(err.strip().splitlines()) == 1
    deep = tmp_path / "kubeconfig"
    deep.write_text("clusters: " + "[" * 5000 + "]" * 5000 + "\n")
    assert main(["agent", "--repo", "x", "--once", "--kubeconfig", str(deep)]) == 2
    err = capsys.readouterr().err
    assert f"kubeconfig {deep}: cannot read it" in err and len(err.strip().splitlines()) == 1
