"""The README's GitLab pipeline, run by gitlab-ci-local (shell executor) against the local forge:
the consumer project includes the component exactly as README.md says (`component:
$CI_SERVER_FQDN/acme/updater/updater@0.1.0`, fetched over git from the forge at that tag), the
ready job opens a merge request in the manifest repository named by `repo:` (no `.git`, as written),
the job after it reads the dotenv report, and the token appears in no log.

Only host names change: `https://gitlab.example.com` becomes the forge, and the image variables
GitLab's registry would define are given."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.readme import gitlab_pipelines
from tests.docs.tools import ROOT, node_env, run, tool
from updater_sandbox.forge import Forge

GITOPS_CONFIG = """\
apps:
  api:
    image: registry.example.test/acme/api
    environments:
      staging:
        paths: ["apps/api/staging/**"]
"""
DEPLOY = ("spec:\n  template:\n    spec:\n      containers:\n        - name: api\n"
          "          image: registry.example.test/acme/api:0.9.0\n")


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, timeout=60,
                   env={**os.environ, "GIT_AUTHOR_NAME": "dev", "GIT_AUTHOR_EMAIL": "dev@example.test",
                        "GIT_COMMITTER_NAME": "dev", "GIT_COMMITTER_EMAIL": "dev@example.test"})


def _python_wrapper(bin_dir: Path) -> None:
    """`python` for the shell executor: a script that execs this interpreter (a symlink would lose the venv)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    wrapper = bin_dir / "python"
    wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
    wrapper.chmod(0o755)


@pytest.fixture()
def consumer(forge: Forge, tmp_path: Path) -> Path:
    """acme/updater at tag 0.1.0 (the component), acme/gitops (the manifests), and a checkout of
    acme/api holding the README's .gitlab-ci.yml."""
    component = forge.create_repo("acme/updater", {"templates/updater.yml": (ROOT / "templates" / "updater.yml").read_text(),
                                                   ".gitlab-ci-template.yml": (ROOT / ".gitlab-ci-template.yml").read_text()})
    component.bare.git("tag", "0.1.0", "main")
    forge.create_repo("acme/gitops", {".updater.yml": GITOPS_CONFIG, "apps/api/staging/deploy.yaml": DEPLOY,
                                      "apps/api/prod/deploy.yaml": DEPLOY}, hook_style="gitlab")
    [example] = gitlab_pipelines()
    pipeline = example.text.replace("https://gitlab.example.com", forge.url)
    assert pipeline != example.text, "the README's pipeline no longer names https://gitlab.example.com"
    project = tmp_path / "api"
    project.mkdir()
    (project / ".gitlab-ci.yml").write_text(pipeline)
    (project / ".gitignore").write_text(".gitlab-ci-local/\n.gitlab-ci-local-variables.yml\nupdater.env\n")
    # GitLab would have these CI/CD variables (GITLAB_TOKEN masked): a file, never a command line
    (project / ".gitlab-ci-local-variables.yml").write_text(
        f"GITLAB_TOKEN: {forge.token}\nCI_REGISTRY: registry.example.test\n"
        "CI_REGISTRY_IMAGE: registry.example.test/acme\n")
    _git(project, "init", "-q", "-b", "main")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "app")
    _git(project, "remote", "add", "origin", forge.repo_url("acme/api"))
    return project


def test_the_readme_pipeline_runs_the_component_and_opens_a_merge_request(forge: Forge, consumer: Path,
                                                                         tmp_path: Path) -> None:
    if shutil.which("rsync") is None:  # gitlab-ci-local copies the project into its build dir with it
        pytest.fail("rsync is not installed: gitlab-ci-local needs it (.ci/run installs it: apt-get install rsync)",
                    pytrace=False)
    bin_dir = tmp_path / "bin"
    _python_wrapper(bin_dir)
    askpass = tmp_path / "askpass.sh"  # git (fetching the component) asks for the forge's token here
    askpass.write_text(f"#!/bin/sh\ncase \"$1\" in Username*) echo oauth2;; *) echo {shlex.quote(forge.token)};; esac\n")
    askpass.chmod(0o700)
    env = node_env({"GIT_ASKPASS": str(askpass), "GIT_TERMINAL_PROMPT": "0", "HOME": str(tmp_path / "home"),
                    # the variables GitLab's registry defines, given in the variables file on purpose
                    "GCL_IGNORE_PREDEFINED_VARS": "CI_REGISTRY,CI_REGISTRY_IMAGE"})
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))
    done = run([tool("gitlab-ci-local"), "--force-shell-executor", "--no-color", "--timestamps=false"],
               cwd=consumer, env=env, timeout=600)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log

    pr = forge.pull("acme/gitops", 1)  # the merge request appeared
    head = forge.repo("acme/gitops").bare.rev_parse(pr.head)
    assert pr.base == "main" and "api" in pr.title
    bare = forge.repo("acme/gitops").bare
    assert "registry.example.test/acme/api:" in bare.git("show", f"{head}:apps/api/staging/deploy.yaml").out
    assert bare.git("show", f"{head}:apps/api/prod/deploy.yaml").out == DEPLOY  # only the target's paths

    sha8 = subprocess.run(["git", "rev-parse", "--short=8", "HEAD"], cwd=consumer, capture_output=True,
                          text=True, check=True).stdout.strip()
    assert f"registry.example.test/acme/api:{sha8}" in bare.git("show", f"{head}:apps/api/staging/deploy.yaml").out
    url = f"{forge.url}/acme/gitops/-/merge_requests/1"
    assert f"merge request {url} (created)" in log  # after-deploy read the dotenv report

    reports = list((consumer / ".gitlab-ci-local").rglob("updater.env"))
    assert reports, "no dotenv report among the job's artifacts"
    report = dict(line.split("=", 1) for line in reports[0].read_text().splitlines() if line)
    assert report == {"UPDATER_OUTCOME": "created", "UPDATER_CHANGED": "true",
                      "UPDATER_CHANGED_FILES": "apps/api/staging/deploy.yaml", "UPDATER_COMMIT_SHA": head,
                      "UPDATER_PR_URL": url, "UPDATER_PR_NUMBER": "1"}

    # every file gitlab-ci-local wrote (job logs, artifacts, build copies), but the variables file we wrote
    written = [p for p in (consumer / ".gitlab-ci-local").rglob("*")
               if p.is_file() and p.name != ".gitlab-ci-local-variables.yml"]
    assert any(p.suffix == ".log" for p in written), "gitlab-ci-local wrote no job log"
    leaked = [p for p in written if forge.token.encode() in p.read_bytes()]
    assert forge.token not in log and not leaked, f"the token reached {leaked or 'the output'}"
