"""Branch protection for pushes: a real `pre-receive` hook in each bare repository that refuses
updates of protected branches with GitHub's or GitLab's own wording (git shows it as `remote: ...`
and reports `[remote rejected] ... (pre-receive hook declined)`).

The hook is a tiny Python script reading `sandbox-protection.json` next to it, which
`write_config` rewrites whenever the forge's protection settings change. Merges made through the
APIs move refs with `update-ref` and so bypass the hook, exactly like the real services' web merges.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from updater.sandbox.state import Repo

CONFIG = "sandbox-protection.json"

MESSAGES = {
    "github": {
        "direct": ["error: GH006: Protected branch update failed for {ref}.",
                   "error: Changes must be made through a pull request."],
        "force": ["error: GH006: Protected branch update failed for {ref}.",
                  "error: Cannot force-push to this branch"],
        "delete": ["error: GH006: Protected branch update failed for {ref}.",
                   "error: Cannot delete this protected branch"],
    },
    "gitlab": {
        "direct": ["GitLab: You are not allowed to push code to protected branches on this project."],
        "force": ["GitLab: You are not allowed to force push code to a protected branch on this project."],
        "delete": ["GitLab: You can only delete protected branches using the web interface."],
    },
}

_HOOK = '''#!{python}
# Installed by updater.sandbox.protection: refuse pushes to protected branches.
import json, subprocess, sys
config = json.load(open("{config}"))
zero = "0" * 40
refused = False
for line in sys.stdin:
    old, new, ref = line.split()
    rule = config["protected"].get(ref)
    if rule is None:
        continue
    if new == zero:
        why = "delete"
    elif not rule["allow_direct_push"]:
        why = "direct"
    elif old != zero and not rule["allow_force_push"] and subprocess.run(
            ["git", "merge-base", "--is-ancestor", old, new]).returncode != 0:
        why = "force"
    else:
        continue
    for text in config["messages"][why]:
        print(text.format(ref=ref), file=sys.stderr)
    refused = True
sys.exit(1 if refused else 0)
'''


def install_hook(repo: Repo) -> None:
    hooks = repo.bare.path / "hooks"
    hooks.mkdir(exist_ok=True)
    hook = hooks / "pre-receive"
    hook.write_text(_HOOK.format(python=sys.executable, config=repo.bare.path / CONFIG))
    hook.chmod(0o755)
    write_config(repo)


def write_config(repo: Repo) -> None:
    """Publish the repository's protection settings to its hook (atomically: pushes may be running)."""
    protected = {
        f"refs/heads/{branch}": {"allow_direct_push": rule.allow_direct_push, "allow_force_push": rule.allow_force_push}
        for branch, rule in repo.settings.protected.items()
    }
    config = {"protected": protected, "messages": MESSAGES[repo.settings.hook_style]}
    target = repo.bare.path / CONFIG
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(config))
    tmp.replace(target)


def hook_path(repo_path: Path) -> Path:
    return repo_path / "hooks" / "pre-receive"
