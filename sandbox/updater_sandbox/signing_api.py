"""The REST routes for signed commits, on both services' routers: GitHub's required signatures of
a protected branch (`/repos/{owner}/{repo}/branches/{branch}/protection/required_signatures`) and
the user's signing keys (`/user/ssh_signing_keys`, `/user/gpg_keys`); GitLab's project push rule
(`/projects/:id/push_rule`, `reject_unsigned_commits`) and the user's keys (`/user/gpg_keys`,
`/user/keys` with `usage_type` signing). Boundary: request and answer shapes; keys are stored by
`updater_sandbox.signing`, rules enforced by the hook (`updater_sandbox.protection`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from updater_sandbox import github_api, gitlab_api, protection, signing
from updater_sandbox import github_json as J
from updater_sandbox.state import Repo, Store, now_iso
from updater_sandbox.web import ApiError, Request, Response, Router, boolean

_REQUIRED = "/repos/{owner}/{repo}/branches/{branch*}/protection/required_signatures"


def _first(router: Router, count: int) -> None:
    """Move the last `count` routes to the front: `/branches/{branch*}` would swallow ours."""
    moved = router.routes[-count:]
    del router.routes[-count:]
    router.routes[:0] = moved


# --- GitHub -------------------------------------------------------------------------------------

def _protected(store: Store, owner: str, repo: str, branch: str) -> tuple[Repo, str]:
    r = github_api.find_repo(store, owner, repo)
    name = unquote(branch)
    if name not in r.settings.protected:
        raise ApiError(404, J.error(404, "Branch not protected"))
    return r, name


def _enforced(req: Request, r: Repo, name: str) -> dict[str, Any]:
    return {"url": f"{J.api(req)}/repos/{r.full_name}/branches/{name}/protection/required_signatures",
            "enabled": r.settings.protected[name].required_signatures}


@github_api.routes.add("GET", _REQUIRED, "repos/get-commit-signature-protection")
def get_required(store: Store, req: Request, owner: str, repo: str, branch: str) -> Response:
    r, name = _protected(store, owner, repo, branch)
    return github_api.ok("repos/get-commit-signature-protection", _enforced(req, r, name))


@github_api.routes.add("POST", _REQUIRED, "repos/create-commit-signature-protection")
def create_required(store: Store, req: Request, owner: str, repo: str, branch: str) -> Response:
    r, name = _protected(store, owner, repo, branch)
    r.settings.protected[name].required_signatures = True
    protection.write_config(r)
    return github_api.ok("repos/create-commit-signature-protection", _enforced(req, r, name))


@github_api.routes.add("DELETE", _REQUIRED, "repos/delete-commit-signature-protection")
def delete_required(store: Store, req: Request, owner: str, repo: str, branch: str) -> Response:
    r, name = _protected(store, owner, repo, branch)
    r.settings.protected[name].required_signatures = False
    protection.write_config(r)
    return Response(204, None, {}, "repos/delete-commit-signature-protection")


_first(github_api.routes, 3)


def _ssh_json(key: signing.SshKey) -> dict[str, Any]:
    return {"id": key.id, "key": key.key, "title": key.title, "created_at": key.created_at}


def _gpg_json(key: signing.GpgKey) -> dict[str, Any]:
    return {"id": key.id, "name": None, "primary_key_id": None, "key_id": key.key_id, "raw_key": key.armored,
            "public_key": key.armored, "emails": [{"email": e, "verified": True} for e in key.emails],
            "subkeys": [], "can_sign": key.can_sign, "can_encrypt_comms": False, "can_encrypt_storage": False,
            "can_certify": True, "created_at": key.created_at, "expires_at": None, "revoked": False}


def _github_invalid(message: str, resource: str, field: str) -> ApiError:
    return github_api.invalid(message, resource, field)


@github_api.routes.add("GET", "/user/ssh_signing_keys", "users/list-ssh-signing-keys-for-authenticated-user")
def list_ssh_signing_keys(store: Store, req: Request) -> Response:
    keys = signing.keys_of(store).ssh
    return github_api.ok("users/list-ssh-signing-keys-for-authenticated-user", [_ssh_json(k) for k in keys])


@github_api.routes.add("POST", "/user/ssh_signing_keys", "users/create-ssh-signing-key-for-authenticated-user")
def create_ssh_signing_key(store: Store, req: Request) -> Response:
    body = github_api.json_object(req)
    text = body.get("key")
    if not isinstance(text, str) or not text.strip():
        raise _github_invalid("key can't be blank", "SshSigningKey", "key")
    try:
        key = signing.trust_key(store, f"{store.login(req.token)}@users.noreply.github.com", text,
                                title=str(body.get("title") or ""))
    except signing.InvalidKey as err:
        raise _github_invalid(str(err), "SshSigningKey", "key") from err
    return github_api.ok("users/create-ssh-signing-key-for-authenticated-user", _ssh_json(key), 201)


@github_api.routes.add("GET", "/user/gpg_keys", "users/list-gpg-keys-for-authenticated-user")
def list_gpg_keys(store: Store, req: Request) -> Response:
    return github_api.ok("users/list-gpg-keys-for-authenticated-user",
                         [_gpg_json(k) for k in signing.keys_of(store).gpg])


@github_api.routes.add("POST", "/user/gpg_keys", "users/create-gpg-key-for-authenticated-user")
def create_gpg_key(store: Store, req: Request) -> Response:
    armored = github_api.json_object(req).get("armored_public_key")
    if not isinstance(armored, str) or not armored.strip():
        raise _github_invalid("armored_public_key can't be blank", "GpgKey", "armored_public_key")
    try:
        key = signing.trust_gpg_key(store, armored)
    except signing.InvalidKey as err:
        raise _github_invalid(str(err), "GpgKey", "armored_public_key") from err
    return github_api.ok("users/create-gpg-key-for-authenticated-user", _gpg_json(key), 201)


# --- GitLab -------------------------------------------------------------------------------------

def _push_rule(repo: Repo) -> dict[str, Any]:
    return {"id": repo.id, "project_id": repo.id, "created_at": repo.created_at, "commit_message_regex": None,
            "commit_message_negative_regex": None, "branch_name_regex": None, "deny_delete_tag": False,
            "member_check": False, "prevent_secrets": False, "author_email_regex": None, "file_name_regex": None,
            "max_file_size": 0, "commit_committer_check": False, "commit_committer_name_check": False,
            "reject_unsigned_commits": repo.settings.reject_unsigned_commits, "reject_non_dco_commits": False}


@gitlab_api.routes.add("GET", gitlab_api.P + "/push_rule", "getApiV4ProjectsIdPushRule")
def get_push_rule(store: Store, req: Request, id: str) -> Response:
    return gitlab_api.ok("getApiV4ProjectsIdPushRule", _push_rule(gitlab_api.find_project(store, id)))


@gitlab_api.routes.add("POST", gitlab_api.P + "/push_rule", "postApiV4ProjectsIdPushRule")
@gitlab_api.routes.add("PUT", gitlab_api.P + "/push_rule", "putApiV4ProjectsIdPushRule")
def set_push_rule(store: Store, req: Request, id: str) -> Response:
    repo = gitlab_api.find_project(store, id)
    params = req.params()
    if "reject_unsigned_commits" in params:
        repo.settings.reject_unsigned_commits = boolean(params["reject_unsigned_commits"])
        protection.write_config(repo)
    status, op = (201, "postApiV4ProjectsIdPushRule") if req.method == "POST" else (200, "putApiV4ProjectsIdPushRule")
    return gitlab_api.ok(op, _push_rule(repo), status)


@gitlab_api.routes.add("POST", "/user/gpg_keys", "postApiV4UserGpgKeys")
def gitlab_gpg_key(store: Store, req: Request) -> Response:
    armored = req.params().get("key")
    if not isinstance(armored, str) or not armored.strip():
        raise gitlab_api.error(400, "key is missing")
    try:
        key = signing.trust_gpg_key(store, armored)
    except signing.InvalidKey as err:
        raise gitlab_api.error(400, {"key": ["has an invalid format"]}) from err
    return gitlab_api.ok("postApiV4UserGpgKeys", {"id": key.id, "key": key.armored, "created_at": key.created_at}, 201)


@gitlab_api.routes.add("POST", "/user/keys", "postApiV4UserKeys")
def gitlab_ssh_key(store: Store, req: Request) -> Response:
    params = req.params()
    text, usage = params.get("key"), str(params.get("usage_type") or "auth_and_signing")
    if not isinstance(text, str) or not text.strip() or not params.get("title"):
        raise gitlab_api.error(400, "title, key are missing")
    if usage not in ("auth", "signing", "auth_and_signing"):
        raise gitlab_api.error(400, "usage_type does not have a valid value")
    try:
        key = (signing.trust_key(store, f"{store.login(req.token)}@noreply.gitlab.example", text,
                                 title=str(params["title"])) if usage != "auth" else None)
    except signing.InvalidKey as err:
        raise gitlab_api.error(400, {"key": ["type is forbidden. Must be RSA, ECDSA, ED25519, ECDSA_SK, or ED25519_SK",
                                             "is invalid"]}) from err
    body = {"id": key.id if key else store.next_id(), "title": str(params["title"]), "key": text.strip(),
            "created_at": key.created_at if key else now_iso(), "expires_at": None, "usage_type": usage}
    return gitlab_api.ok("postApiV4UserKeys", body, 201)
