"""The vendored contracts: completion fills every required key, validation catches what is missing or
mistyped, and OpenAPI 3.0 `nullable` beside allOf/oneOf reads as "or null"."""

from __future__ import annotations

from types import SimpleNamespace

from updater_sandbox import schemas


def test_completion_makes_a_sparse_body_valid_and_keeps_given_values() -> None:
    body = schemas.complete("github", "pulls/get", 200, {"number": 7, "title": "Bump", "mergeable": None})
    assert body["number"] == 7 and body["title"] == "Bump" and body["mergeable"] is None
    assert {"full_name", "default_branch", "clone_url"} <= body["base"]["repo"].keys()  # filled, required
    assert schemas.violations("github", "pulls/get", 200, body) == []


def test_validation_reports_missing_and_mistyped_fields() -> None:
    body = schemas.complete("gitlab", "getApiV4ProjectsIdMergeRequestsMergeRequestIid", 200, {"iid": 1})
    del body["detailed_merge_status"]
    body["iid"] = "one"
    problems = schemas.violations("gitlab", "getApiV4ProjectsIdMergeRequestsMergeRequestIid", 200, body)
    assert any("detailed_merge_status" in p for p in problems) and any("iid" in p for p in problems)


def test_nullable_references_accept_null_but_not_garbage() -> None:
    op = "getApiV4ProjectsIdMergeRequestsMergeRequestIid"
    body = schemas.complete("gitlab", op, 200, {"closed_by": None, "head_pipeline": None})
    assert schemas.violations("gitlab", op, 200, body) == []
    assert schemas.violations("gitlab", op, 200, {**body, "closed_by": "someone"})


def test_undeclared_statuses_and_error_bodies() -> None:
    assert schemas.violations("github", "repos/create-commit-status", 201, {}) != []  # required keys missing
    assert schemas.violations("github", "pulls/get", 418, {"message": "teapot"}) == ["pulls/get does not declare status 418"]
    assert schemas.violations("github", "pulls/get", 404, {"message": "Not Found"}) == []
    assert schemas.violations("gitlab", "getApiV4ProjectsId", 502, "Bad Gateway") != []
    entry = SimpleNamespace(method="GET", path="/api/v4/nope", service="gitlab", operation=None, status=404,
                            body={"error": "404 Not Found"})
    assert schemas.entry_violations(entry) == []
    graphql = SimpleNamespace(method="POST", path="/api/graphql", service="graphql", operation=None, status=200,
                              body={"errors": [{"message": "x"}]})
    assert schemas.entry_violations(graphql) == ["POST /api/graphql -> 200: GraphQL error without message/type: {'message': 'x'}"]
