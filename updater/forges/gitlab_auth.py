"""What GitLab's refusal of a token means, said in one line: the step, the token's kind when known,
and the scope, role or setting the step needs. Pure: GitLab's answer (status and JSON body) and
what the provider read about the token in, the message's tail out; no I/O, never the token itself.

GitLab's answers this reads (the local forge acts them out, in its GitLab token model):
401 `{"error": "invalid_token", "error_description": "Token was revoked..."}` (revoked or expired),
401 `{"message": "401 Unauthorized"}` (unknown token, or CI_JOB_TOKEN on an endpoint that does not
accept job tokens), 403 `{"error": "insufficient_scope", ..., "scope": "api"}` (the scopes the route
accepts), 403 `{"message": "403 Forbidden"}` (the role is too low) and 404 for a project the token
does not reach. The kind comes from the variable (CI_JOB_TOKEN) or from `GET /user` (GitLab names
project and group bots `project_<id>_bot_...` / `group_<id>_bot_...`), never from the token text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

JOB_TOKEN = "CI_JOB_TOKEN"
FIX = "use a project access token with scopes api and write_repository and role Developer"


@dataclass(frozen=True)
class TokenFacts:
    """What the provider learnt about its token after a refusal (each part may be unknown)."""

    kind: str | None = None  # "personal access token", "project access token", "group access token", JOB_TOKEN
    scopes: tuple[str, ...] = ()  # from GET /personal_access_tokens/self
    job_alive: bool | None = None  # CI_JOB_TOKEN: GET /job answered (the job runs, the token is valid)


def kind_of_user(user: Mapping[str, Any]) -> str | None:
    """The token kind `GET /user`'s answer shows: a bot is a project or group access token's user."""
    name = str(user.get("username") or "")
    if not user.get("bot"):
        return "personal access token" if name else None
    if re.match(r"project_\d+_bot", name):
        return "project access token"
    if re.match(r"group_\d+_bot", name):
        return "group access token"
    return "access token"


def explain(status: int, body: Mapping[str, Any], *, token_env: str, facts: TokenFacts) -> str | None:
    """The tail of the one-line error for this refusal (after "<where>: <step>: "), or None when
    the generic message says it as well."""
    token = f"the {facts.kind or 'token'} in ${token_env}" if facts.kind != JOB_TOKEN else JOB_TOKEN
    if facts.kind == JOB_TOKEN and status in (401, 403):
        if facts.job_alive:
            return (f"{JOB_TOKEN} cannot do this step: GitLab accepts the job token on a few API endpoints only "
                    "(jobs, packages, releases, deployments...) and merge requests are not among them; "
                    f"{FIX}, in a masked CI/CD variable named by --token-env (or use --mode push)")
        return (f"{JOB_TOKEN} was rejected ({status}): its job has finished, or ${token_env} does not hold "
                "this job's token")
    if status == 401 and body.get("error") == "invalid_token":
        why = str(body.get("error_description") or "invalid token")
        return f"{token} was rejected (401: {why}); create a new token and store it in ${token_env}"
    if status == 403 and body.get("error") == "insufficient_scope":
        needed = str(body.get("scope") or "api").split()
        has = f"; it has {', '.join(facts.scopes)}" if facts.scopes else ""
        read_only = " (read_api is read-only)" if needed[0] == "api" and "read_api" in facts.scopes else ""
        return f"{token} lacks the `{needed[0]}` scope{read_only}{has}; {FIX}"
    if status == 403:
        detail = str(body.get("message") or "403 Forbidden")
        return f"forbidden ({detail}): {token} needs at least the Developer role on the project; {FIX}"
    if status == 404 and facts.kind in ("project access token", "group access token"):
        return (f"{token} does not reach this project (404): a project access token reaches only its own "
                "project, a group access token only the projects of its group; check --repo or create the "
                "token on the manifest project (or its group)")
    return None
