"""GitLab v4 merge request notes, project labels and commit statuses (external CI: they make a merge
request's head pipeline), registered on `updater_sandbox.gitlab_api.routes`."""

from __future__ import annotations

from updater_sandbox import gitlab_json as J
from updater_sandbox.gitlab_api import P, error, find_mr, find_project, ok, routes
from updater_sandbox.state import STATUS_FROM_GITLAB, Comment, Pull, Store, now_iso
from updater_sandbox.web import ApiError, Request, Response, paginate


NOTES = P + "/merge_requests/{iid}/notes"


@routes.add("GET", NOTES, "getApiV4ProjectsIdMergeRequestsNoteableIdNotes")
def list_notes(store: Store, req: Request, id: str, iid: str) -> Response:
    repo = find_project(store, id)
    pull = find_mr(repo, iid)
    notes = sorted(pull.comments, key=lambda c: c.id, reverse=req.arg("sort", "desc") == "desc")
    page, headers = paginate([J.note(repo, pull, c) for c in notes], req, default=20)
    return ok("getApiV4ProjectsIdMergeRequestsNoteableIdNotes", page, headers=headers)


@routes.add("POST", NOTES, "postApiV4ProjectsIdMergeRequestsNoteableIdNotes")
def create_note(store: Store, req: Request, id: str, iid: str) -> Response:
    repo = find_project(store, id)
    pull = find_mr(repo, iid)
    text = req.params().get("body")
    if not text:
        raise ApiError(400, {"error": "body is missing"})
    stamp = now_iso()
    c = Comment(store.next_id(), str(text), store.login(req.token), stamp, stamp)
    pull.comments.append(c)
    return ok("postApiV4ProjectsIdMergeRequestsNoteableIdNotes", J.note(repo, pull, c), 201)


def _note(pull: Pull, note_id: str) -> Comment:
    for c in pull.comments:
        if str(c.id) == note_id:
            return c
    raise error(404, "404 Note Not Found")


@routes.add("GET", NOTES + "/{note_id}", "getApiV4ProjectsIdMergeRequestsNoteableIdNotesNoteId")
def get_note(store: Store, req: Request, id: str, iid: str, note_id: str) -> Response:
    repo = find_project(store, id)
    pull = find_mr(repo, iid)
    return ok("getApiV4ProjectsIdMergeRequestsNoteableIdNotesNoteId", J.note(repo, pull, _note(pull, note_id)))


@routes.add("PUT", NOTES + "/{note_id}", "putApiV4ProjectsIdMergeRequestsNoteableIdNotesNoteId")
def edit_note(store: Store, req: Request, id: str, iid: str, note_id: str) -> Response:
    repo = find_project(store, id)
    pull = find_mr(repo, iid)
    c = _note(pull, note_id)
    text = req.params().get("body")
    if not text:
        raise ApiError(400, {"error": "body is missing"})
    c.body, c.updated_at = str(text), now_iso()
    return ok("putApiV4ProjectsIdMergeRequestsNoteableIdNotesNoteId", J.note(repo, pull, c))


@routes.add("GET", P + "/labels")
def list_labels(store: Store, req: Request, id: str) -> Response:
    repo = find_project(store, id)
    items = [{"id": ident, "name": name, "color": f"#{color}", "description": None, "text_color": "#333333"}
             for name, (ident, color) in sorted(repo.labels.items())]
    page, headers = paginate(items, req, default=20)
    return ok(None, page, headers=headers)


@routes.add("POST", P + "/statuses/{sha}")
def create_status(store: Store, req: Request, id: str, sha: str) -> Response:
    """GitLab's commit status API (external CI): it feeds the MR's head pipeline."""
    repo = find_project(store, id)
    params = req.params()
    state = params.get("state")
    if state not in STATUS_FROM_GITLAB:
        raise ApiError(400, {"error": "state does not have a valid value"})
    full = repo.bare.rev_parse(sha)
    if full is None:
        raise error(404, "404 Commit Not Found")
    context = str(params.get("name") or params.get("context") or "default")
    status = store.add_status(repo, full, STATUS_FROM_GITLAB[str(state)], context, description=params.get("description"),
                              target_url=params.get("target_url"), creator=store.login(req.token))
    return ok(None, {"id": status.id, "sha": full, "ref": params.get("ref"), "status": state, "name": context,
                     "target_url": status.target_url, "description": status.description,
                     "created_at": status.created_at, "started_at": None, "finished_at": None,
                     "allow_failure": False, "author": J.user(status.creator)}, 201)
