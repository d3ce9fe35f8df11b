"""Branch protection for pushes: a real `pre-receive` hook in each bare repository that refuses
updates of protected branches with GitHub's or GitLab's own wording (git shows it as `remote: ...`
and reports `[remote rejected] ... (pre-receive hook declined)`).

The hook is a POSIX shell script (a Python one would add an interpreter start to every push)
reading `sandbox-protection` (one line per protected ref: `<ref> <direct 0|1> <force 0|1>`) and
`sandbox-protection.<why>` (the refusal text), which `write_config` rewrites atomically whenever the
forge's protection settings change. Merges made through the
APIs move refs with `update-ref` and so bypass the hook, exactly like the real services' web merges.
"""

from __future__ import annotations


from updater_sandbox.state import Repo

CONFIG = "sandbox-protection"

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

_HOOK = """#!/bin/sh
# Installed by updater_sandbox.protection: refuse pushes to protected branches.
conf='{config}'
z=0000000000000000000000000000000000000000
status=0
while read -r old new ref; do
  rule=""
  while read -r r direct force; do [ "$r" = "$ref" ] && rule="$direct $force"; done < "$conf"
  [ -n "$rule" ] || continue
  set -- $rule
  if [ "$new" = "$z" ]; then why=delete
  elif [ "$1" = 0 ]; then why=direct
  elif [ "$old" != "$z" ] && [ "$2" = 0 ] && ! git merge-base --is-ancestor "$old" "$new"; then why=force
  else continue
  fi
  while IFS= read -r line; do
    case "$line" in *"{{ref}}"*) line="${{line%%"{{ref}}"*}}$ref${{line#*"{{ref}}"}}";; esac
    printf '%s\\n' "$line" >&2
  done < "$conf.$why"
  status=1
done
exit $status
"""


def install_hook(repo: Repo) -> None:
    hooks = repo.bare.path / "hooks"
    hooks.mkdir(exist_ok=True)
    write_config(repo)
    hook = hooks / "pre-receive"
    hook.write_text(_HOOK.format(config=repo.bare.path / CONFIG))
    hook.chmod(0o755)


def write_config(repo: Repo) -> None:
    """Publish the repository's protection settings to its hook (atomically: pushes may be running)."""
    rules = "".join(f"refs/heads/{branch} {int(rule.allow_direct_push)} {int(rule.allow_force_push)}\n"
                    for branch, rule in repo.settings.protected.items())
    files = {CONFIG: rules}
    for why, lines in MESSAGES[repo.settings.hook_style].items():
        files[f"{CONFIG}.{why}"] = "".join(line + "\n" for line in lines)
    for name, text in files.items():
        target = repo.bare.path / name
        tmp = target.with_name(name + ".tmp")
        tmp.write_text(text)
        tmp.replace(target)
