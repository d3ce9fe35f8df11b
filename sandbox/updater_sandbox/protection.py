"""Branch protection for pushes: a real `pre-receive` hook in each bare repository that refuses
updates of protected branches with GitHub's or GitLab's own wording (git shows it as `remote: ...`
and reports `[remote rejected] ... (pre-receive hook declined)`).

The hook is a POSIX shell script (a Python one would add an interpreter start to every push)
reading `sandbox-protection` (one line per protected ref: `<ref> <direct 0|1> <force 0|1> <sign>`,
where sign is 0, `v` (GitHub's required signatures: `git verify-commit` of every new commit against
the keys in `updater_sandbox.signing`) or `p` (a signature must be present); a `*` line is GitLab's
project-wide push rule `reject_unsigned_commits`) and
`sandbox-protection.<why>` (the refusal text), which `write_config` rewrites atomically whenever the
forge's protection settings change. Merges made through the
APIs move refs with `update-ref` and so bypass the hook, exactly like the real services' web merges.
"""

from __future__ import annotations


from updater_sandbox.signing import keys_dir
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
        # Classic protection's "Require signed commits" (rulesets say the same under GH013; logs
        # before 2024 show "Commits must have valid signatures.")
        "unsigned": ["error: GH006: Protected branch update failed for {ref}.",
                     "error: Commits must have verified signatures."],
    },
    "gitlab": {
        "direct": ["GitLab: You are not allowed to push code to protected branches on this project."],
        "force": ["GitLab: You are not allowed to force push code to a protected branch on this project."],
        "delete": ["GitLab: You can only delete protected branches using the web interface."],
        # ee/lib/gitlab/checks/push_rules/commit_check.rb
        "unsigned": ["GitLab: Commit must be signed with a GPG key"],
    },
}

_HOOK = """#!/bin/sh
# Installed by updater_sandbox.protection: refuse pushes to protected branches, and unsigned commits
# where a rule requires signatures. Commits are only verified when a rule asks (a plain push stays fast).
conf='{config}'
keys='{keys}'
z=0000000000000000000000000000000000000000
status=0
say() {{
  while IFS= read -r line; do
    case "$line" in *"{{ref}}"*) line="${{line%%"{{ref}}"*}}$ref${{line#*"{{ref}}"}}";; esac
    printf '%s\\n' "$line" >&2
  done < "$conf.$1"
  status=1
}}
signed() {{  # $1: v (verifies against the forge's keys) or p (a signature is present), $2: commit
  if [ "$1" = v ]; then
    GNUPGHOME="$keys/gnupg" git -c gpg.ssh.allowedSignersFile="$keys/allowed_signers" verify-commit "$2" >/dev/null 2>&1
  else
    git cat-file commit "$2" | sed '/^$/q' | grep -q '^gpgsig'
  fi
}}
while read -r old new ref; do
  rule=""
  sign=0
  while read -r r direct force s; do
    if [ "$r" = "$ref" ]; then rule="$direct $force"; [ "${{s:-0}}" = 0 ] || sign=$s
    elif [ "$r" = "*" ] && [ "$sign" = 0 ]; then sign=$s
    fi
  done < "$conf"
  if [ -n "$rule" ]; then
    set -- $rule
    if [ "$new" = "$z" ]; then say delete; continue
    elif [ "$1" = 0 ]; then say direct; continue
    elif [ "$old" != "$z" ] && [ "$2" = 0 ] && ! git merge-base --is-ancestor "$old" "$new"; then say force; continue
    fi
  fi
  [ "$sign" != 0 ] && [ "$new" != "$z" ] || continue
  # GitHub checks what the branch gains; GitLab only commits new to the repository (its new_commits)
  if [ "$old" = "$z" ] || [ "$sign" = p ]; then commits=$(git rev-list "$new" --not --all)
  else commits=$(git rev-list "$old..$new")
  fi
  for c in $commits; do
    signed "$sign" "$c" || {{ say unsigned; break; }}
  done
done
exit $status
"""


def install_hook(repo: Repo) -> None:
    hooks = repo.bare.path / "hooks"
    hooks.mkdir(exist_ok=True)
    write_config(repo)
    hook = hooks / "pre-receive"
    hook.write_text(_HOOK.format(config=repo.bare.path / CONFIG, keys=keys_dir(repo)))
    hook.chmod(0o755)


def write_config(repo: Repo) -> None:
    """Publish the repository's protection settings to its hook (atomically: pushes may be running)."""
    rules = "".join(f"refs/heads/{branch} {int(rule.allow_direct_push)} {int(rule.allow_force_push)} "
                    f"{'v' if rule.required_signatures else 0}\n"
                    for branch, rule in repo.settings.protected.items())
    if repo.settings.reject_unsigned_commits:  # GitLab's push rule: every ref of the project
        rules += "* 1 1 p\n"
    files = {CONFIG: rules}
    for why, lines in MESSAGES[repo.settings.hook_style].items():
        files[f"{CONFIG}.{why}"] = "".join(line + "\n" for line in lines)
    for name, text in files.items():
        target = repo.bare.path / name
        tmp = target.with_name(name + ".tmp")
        tmp.write_text(text)
        tmp.replace(target)
