"""What GitLab's refusals of a token mean (`updater.forges.gitlab_auth`): literal answers in, the
message's tail out. The same answers come from the local forge in tests/landing/test_pr_gitlab_tokens.py."""

from __future__ import annotations

from updater.forges.gitlab_auth import TokenFacts, explain, kind_of_user

SCOPE = {"error": "insufficient_scope", "scope": "api",
         "error_description": "The request requires higher privileges than provided by the access token."}


def test_the_kind_comes_from_the_user_gitlab_shows() -> None:
    assert kind_of_user({"username": "alice", "bot": False}) == "personal access token"
    assert kind_of_user({"username": "project_12_bot_3f2a", "bot": True}) == "project access token"
    assert kind_of_user({"username": "group_7_bot_99", "bot": True}) == "group access token"
    assert kind_of_user({"username": "renovate", "bot": True}) == "access token"


def test_a_missing_scope_is_named_with_what_the_token_has() -> None:
    tail = explain(403, SCOPE, token_env="GITLAB_TOKEN",
                   facts=TokenFacts("group access token", ("read_api", "write_repository")))
    assert tail is not None and tail.startswith("the group access token in $GITLAB_TOKEN lacks the `api` scope "
                                                "(read_api is read-only); it has read_api, write_repository")
    unknown = explain(403, {**SCOPE, "scope": "api read_api"}, token_env="T", facts=TokenFacts())
    assert unknown is not None and unknown.startswith("the token in $T lacks the `api` scope; use")


def test_role_reach_and_dead_tokens() -> None:
    role = explain(403, {"message": "403 Forbidden"}, token_env="T", facts=TokenFacts("project access token"))
    assert role is not None and "needs at least the Developer role" in role
    reach = explain(404, {"message": "404 Project Not Found"}, token_env="T", facts=TokenFacts("group access token"))
    assert reach is not None and "only the projects of its group" in reach
    assert explain(404, {"message": "404 Project Not Found"}, token_env="T", facts=TokenFacts("personal access token")) is None
    expired = explain(401, {"error": "invalid_token", "error_description": "Token is expired."}, token_env="T",
                      facts=TokenFacts())
    assert expired == "the token in $T was rejected (401: Token is expired.); create a new token and store it in $T"
    assert explain(401, {"message": "401 Unauthorized"}, token_env="T", facts=TokenFacts()) is None


def test_the_job_token_limit_is_told_from_a_finished_job() -> None:
    alive = explain(401, {"message": "401 Unauthorized"}, token_env="CI_JOB_TOKEN",
                    facts=TokenFacts("CI_JOB_TOKEN", job_alive=True))
    assert alive is not None and "merge requests are not among them" in alive
    dead = explain(401, {"message": "401 Unauthorized"}, token_env="CI_JOB_TOKEN",
                   facts=TokenFacts("CI_JOB_TOKEN", job_alive=False))
    assert dead is not None and "its job has finished" in dead
