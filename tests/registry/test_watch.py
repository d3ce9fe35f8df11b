"""`updater watch` end to end: a real registry (distribution 2.8, htpasswd, images pushed with
skopeo) and a manifest tree or a repository on the local forge; the CLI entry point as a pipeline
runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.registry.server import Registry, free_port
from updater.cli import main
from updater.errors import ExitCode
from updater_sandbox.forge import Forge
from updater_sandbox.state import Protection

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          image: {ref}  # keep this comment
"""


def config(*apps: tuple[str, str, str]) -> str:
    """.updater.yml with one environment per app: (app, image, policy as YAML flow)."""
    lines = ["apps:"]
    for app, image, policy in apps:
        lines += [f"  {app}:", f"    image: {image}", f"    paths: [apps/{app}/**]",
                  f"    watch: {{policy: {policy}}}", "    environments: {prod: {}}"]
    return "\n".join(lines) + "\n"


def tree(tmp_path: Path, refs: dict[str, str], updater_yml: str) -> Path:
    root = tmp_path / "tree"
    for app, ref in refs.items():
        (root / "apps" / app).mkdir(parents=True)
        (root / "apps" / app / "deploy.yaml").write_text(DEPLOY.format(ref=ref))
    (root / ".updater.yml").write_text(updater_yml)
    return root


def deployed(root: Path, app: str = "api") -> str:
    return (root / "apps" / app / "deploy.yaml").read_text()


def watch(registry: Registry, *args: str) -> int:
    return main(["watch", "--insecure-registry", registry.host, *args])


def test_newest_tag_in_range_ignoring_outside_and_pre_releases(logged_in: Registry, repo_name: str,
                                                               tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = f"{logged_in.host}/{repo_name}"
    logged_in.push(repo_name, "1.4.0")
    logged_in.tag(repo_name, "1.4.0", "1.4.3", "1.4.4-rc.1", "1.5.0", "2.0.0", "latest")
    root = tree(tmp_path, {"api": f"{image}:1.4.0"}, config(("api", image, '{semver: "~1.4"}')))
    assert watch(logged_in, "--dir", str(root)) == 0
    assert deployed(root) == DEPLOY.format(ref=f"{image}:1.4.3")
    assert f"# api/prod: semver ~1.4 -> {image}:1.4.3 (6 tags" in capsys.readouterr().out
    # again: already current, nothing changes
    assert watch(logged_in, "--dir", str(root)) == 0
    assert deployed(root) == DEPLOY.format(ref=f"{image}:1.4.3")


def test_no_tag_in_range_changes_nothing(logged_in: Registry, repo_name: str, tmp_path: Path) -> None:
    image = f"{logged_in.host}/{repo_name}"
    logged_in.push(repo_name, "2.0.0")
    logged_in.tag(repo_name, "2.0.0", "1.5.0-rc.1")
    root = tree(tmp_path, {"api": f"{image}:1.4.0"}, config(("api", image, '{semver: "~1.4"}')))
    assert watch(logged_in, "--dir", str(root)) == 0
    assert deployed(root) == DEPLOY.format(ref=f"{image}:1.4.0")


def test_a_followed_tag_that_moved_is_pinned_to_its_new_digest(logged_in: Registry, repo_name: str,
                                                               tmp_path: Path) -> None:
    image = f"{logged_in.host}/{repo_name}"
    old = logged_in.push(repo_name, "stable")
    root = tree(tmp_path, {"api": f"{image}:stable@{old}"}, config(("api", image, "{follow: stable}")))
    assert watch(logged_in, "--dir", str(root)) == 0
    assert deployed(root) == DEPLOY.format(ref=f"{image}:stable@{old}")  # not moved: nothing to do
    new = logged_in.push(repo_name, "stable")
    assert watch(logged_in, "--dir", str(root)) == 0
    assert deployed(root) == DEPLOY.format(ref=f"{image}:stable@{new}")


def test_dry_run_json_reports_and_writes_nothing(logged_in: Registry, repo_name: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    image = f"{logged_in.host}/{repo_name}"
    logged_in.push(repo_name, "main-9")
    logged_in.tag(repo_name, "main-9", "main-10", "main-x", "dev-99")
    root = tree(tmp_path, {"api": f"{image}:main-9"},
                config(("api", image, "{regex: '^main-(?P<key>[0-9]+)$', sort: numeric}")))
    capsys.readouterr()
    assert watch(logged_in, "--dir", str(root), "--dry-run", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    [target] = report["targets"]
    assert (target["target"], target["tag"], target["tags_seen"]) == ("api/prod", "main-10", 4)
    assert target["bump"]["dry_run"] is True
    assert [(c["old"], c["new"]) for c in target["bump"]["changes"]] == [(f"{image}:main-9", f"{image}:main-10")]
    assert report["registry_calls"] == target["registry_calls"] == 2  # a 401, then the list with the login
    assert deployed(root) == DEPLOY.format(ref=f"{image}:main-9")


def test_registry_down_fails_before_any_change(logged_in: Registry, repo_name: str, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    image = f"{logged_in.host}/{repo_name}"
    logged_in.push(repo_name, "1.4.0")
    logged_in.tag(repo_name, "1.4.0", "1.4.1")
    down = f"127.0.0.1:{free_port()}"
    root = tree(tmp_path, {"api": f"{image}:1.4.0", "web": f"{down}/acme/web:1.0.0"},
                config(("api", image, '{semver: "~1.4"}'), ("web", f"{down}/acme/web", '{semver: "^1"}')))
    before = {app: deployed(root, app) for app in ("api", "web")}
    assert watch(logged_in, "--dir", str(root), "--insecure-registry", down) == ExitCode.REMOTE
    err = capsys.readouterr().err
    assert f"updater: error: {down}/acme/web: cannot reach {down} after 3 attempt(s)" in err
    # api's registry answered, but nothing is bumped when any registry fails
    assert {app: deployed(root, app) for app in ("api", "web")} == before


def test_wrong_login_is_exit_6_without_the_password(registry: Registry, repo_name: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import base64

    image = f"{registry.host}/{repo_name}"
    bad = base64.b64encode(f"{registry.user}:wrong-password-123".encode()).decode()
    monkeypatch.setenv("DOCKER_AUTH_CONFIG", json.dumps({"auths": {registry.host: {"auth": bad}}}))
    root = tree(tmp_path, {"api": f"{image}:1.0.0"}, config(("api", image, '{semver: "^1"}')))
    assert watch(registry, "--dir", str(root)) == ExitCode.AUTH
    captured = capsys.readouterr()
    assert "refused the login" in captured.err
    assert "wrong-password-123" not in captured.err + captured.out and bad not in captured.err


def test_bad_policy_names_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tree(tmp_path, {"api": "ghcr.io/acme/api:1.0.0"}, config(("api", "ghcr.io/acme/api", '{semver: "~banana"}')))
    assert main(["watch", "--dir", str(root)]) == ExitCode.BAD_INPUT
    assert "apps.api.environments.prod: watch.policy.semver" in capsys.readouterr().err
    (root / ".updater.yml").write_text(config(("api", "ghcr.io/acme/api", "{semver: '^1', follow: latest}")))
    assert main(["watch", "--dir", str(root)]) == ExitCode.BAD_INPUT
    assert "watch.policy: give exactly one of semver, regex or follow (found: semver, follow)" in capsys.readouterr().err
    (root / ".updater.yml").write_text("apps:\n  api:\n    image: ghcr.io/acme/api\n    environments: {prod: {}}\n")
    assert main(["watch", "--dir", str(root)]) == ExitCode.BAD_INPUT
    assert "has a watch: policy; add one" in capsys.readouterr().err


@pytest.mark.parametrize("provider", ["github", "gitlab"])
def test_a_new_tag_opens_a_pull_request(logged_in: Registry, repo_name: str, forge: Forge, provider: str,
                                        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    image = f"{logged_in.host}/{repo_name}"
    logged_in.push(repo_name, "1.4.0")
    logged_in.tag(repo_name, "1.4.0", "1.4.2", "1.5.0")
    forge.create_repo("acme/gitops", {"apps/api/deploy.yaml": DEPLOY.format(ref=f"{image}:1.4.0"),
                                      ".updater.yml": config(("api", image, '{semver: "~1.4"}'))})
    monkeypatch.setenv("GITHUB_TOKEN" if provider == "github" else "GITLAB_TOKEN", forge.token)
    api = forge.github_api_url if provider == "github" else forge.gitlab_api_url
    capsys.readouterr()
    assert watch(logged_in, "--repo", forge.repo_url("acme/gitops"), "--provider", provider, "--api-url", api,
                 "--mode", "pr", "--json") == 0
    [target] = json.loads(capsys.readouterr().out)["targets"]
    assert target["bump"]["outcome"] == "created"
    [pull] = [p for p in forge.repo("acme/gitops").pulls.values() if p.state == "open"]
    assert pull.title.endswith("1.4.2 in api/prod")
    shown = forge.repo("acme/gitops").bare.git("show", f"{pull.head}:apps/api/deploy.yaml").out
    assert shown == DEPLOY.format(ref=f"{image}:1.4.2")


def test_manifests_above_the_range_are_a_refused_downgrade(logged_in: Registry, repo_name: str, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    image = f"{logged_in.host}/{repo_name}"
    logged_in.push(repo_name, "1.4.3")
    root = tree(tmp_path, {"api": f"{image}:1.5.0"}, config(("api", image, '{semver: "~1.4"}')))
    assert watch(logged_in, "--dir", str(root)) == ExitCode.REFUSED
    assert "downgrade" in capsys.readouterr().err
    assert deployed(root) == DEPLOY.format(ref=f"{image}:1.5.0")


def test_watch_hands_bumps_own_commit_and_schema_flags_to_each_bump(logged_in: Registry, repo_name: str,
                                                                    forge: Forge, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    # watch's bumps land on a branch that requires signed commits only with --sign (watch had no
    # --sign, --commit-via, --kube-version or --no-schema-validation: only .updater.yml could ask)
    from tests.signkeys import ssh_pair

    image = f"{logged_in.host}/{repo_name}"
    logged_in.push(repo_name, "1.4.0")
    logged_in.tag(repo_name, "1.4.0", "1.4.2")
    forge.create_repo("acme/gitops", {"apps/api/deploy.yaml": DEPLOY.format(ref=f"{image}:1.4.0"),
                                      ".updater.yml": config(("api", image, '{semver: "~1.4"}'))})
    forge.protect("acme/gitops", "main", Protection(allow_direct_push=True, required_signatures=True))
    key = ssh_pair(tmp_path / "keys")
    forge.trust_signing_key("updater-bot@users.noreply.github.com", key.public)
    monkeypatch.setenv("GITHUB_TOKEN", forge.token)
    monkeypatch.setenv("BOT_KEY", key.private)
    repo = ["--repo", forge.repo_url("acme/gitops"), "--provider", "github", "--api-url", forge.github_api_url,
            "--mode", "push"]
    assert watch(logged_in, *repo, "--kube-version", "0.1") == ExitCode.BAD_INPUT  # reached the bump: refused
    refused = capsys.readouterr().err
    assert "--kube-version" in refused and "1.25" in refused and "unrecognized" not in refused
    assert watch(logged_in, *repo) != 0  # unsigned: refused by the branch rule
    assert watch(logged_in, *repo, "--sign", "ssh", "--signing-key-env", "BOT_KEY", "--no-schema-validation") == 0
    bare = forge.repo("acme/gitops").bare
    assert bare.git("show", "main:apps/api/deploy.yaml").out == DEPLOY.format(ref=f"{image}:1.4.2")
    assert forge.verified("acme/gitops", "main")
