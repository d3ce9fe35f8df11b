"""ImageRef: the distribution reference grammar, normalisation, spelling-preserving re-rendering."""

from __future__ import annotations

import pytest

from updater.errors import BadInput
from updater.refs import ImageRef, InvalidReference, canonical_name

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "name", "tag", "digest"),
    [
        ("nginx:1.27", "nginx", "1.27", None),
        ("ghcr.io/acme/api:1.4.2", "ghcr.io/acme/api", "1.4.2", None),
        ("registry.example.com:5000/team/sub/api:v2", "registry.example.com:5000/team/sub/api", "v2", None),
        ("localhost:5000/api:0.1", "localhost:5000/api", "0.1", None),
        ("localhost/api:0.1", "localhost/api", "0.1", None),
        (f"ghcr.io/acme/api@{DIGEST}", "ghcr.io/acme/api", None, DIGEST),
        (f"ghcr.io/acme/api:1.4.2@{DIGEST}", "ghcr.io/acme/api", "1.4.2", DIGEST),
        ("acme/my_app__x-y.z:latest", "acme/my_app__x-y.z", "latest", None),
        ("[::1]:5000/api:1", "[::1]:5000/api", "1", None),
        ("a" * 10 + "/b:1.0-rc.1_build", "aaaaaaaaaa/b", "1.0-rc.1_build", None),
    ],
)
def test_parse_valid(text: str, name: str, tag: str | None, digest: str | None) -> None:
    ref = ImageRef.parse(text)
    assert (ref.name, ref.tag, ref.digest) == (name, tag, digest)
    assert str(ref) == text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("ghcr.io/acme/Api:1.0", "invalid repository name 'Api'"),
        ("ghcr.io/acme/api:-bad", "invalid tag '-bad'"),
        ("ghcr.io/acme/api:" + "x" * 129, "invalid tag"),
        ("ghcr.io/acme/api@sha256:xyz", "invalid digest 'sha256:xyz'"),
        ("ghcr.io/acme/api", "no tag or digest"),
        ("", "empty"),
        (" nginx:1", "whitespace"),
        ("acme//api:1", "not a valid image reference"),
        ("acme/api:1:2", "invalid tag '1:2'"),
    ],
)
def test_parse_invalid_names_the_flag_and_the_problem(text: str, says: str) -> None:
    with pytest.raises(BadInput) as err:
        ImageRef.parse(text)
    message = str(err.value)
    assert message.startswith("--image ") and says in message and "\n" not in message


def test_parse_reference_allows_a_bare_name_but_not_garbage() -> None:
    assert ImageRef.parse_reference("nginx") == ImageRef("nginx")
    assert ImageRef.try_parse("{{ .Values.image }}") is None
    with pytest.raises(InvalidReference):
        ImageRef.parse_reference("UPPER")


def test_name_longer_than_255_is_refused() -> None:
    with pytest.raises(BadInput, match="longer than 255"):
        ImageRef.parse("a/" + "b" * 254 + ":1")


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("nginx", "docker.io/library/nginx"),
        ("library/nginx", "docker.io/library/nginx"),
        ("docker.io/library/nginx", "docker.io/library/nginx"),
        ("docker.io/nginx", "docker.io/library/nginx"),
        ("index.docker.io/library/nginx", "docker.io/library/nginx"),
        ("acme/api", "docker.io/acme/api"),
        ("ghcr.io/acme/api", "ghcr.io/acme/api"),
        ("localhost/api", "localhost/api"),
        ("localhost:5000/api", "localhost:5000/api"),
        ("registry:5000/api", "registry:5000/api"),
    ],
)
def test_normalisation(spelling: str, canonical: str) -> None:
    assert canonical_name(spelling) == canonical


def test_similar_names_do_not_match() -> None:
    assert ImageRef("acme/api-gateway").canonical_name != ImageRef("acme/api").canonical_name
    assert ImageRef("ghcr.io/acme/api").canonical_name != ImageRef("acme/api").canonical_name


def test_with_version_keeps_spelling_and_follows_the_digest_rules() -> None:
    old = ImageRef("nginx", "1.25", DIGEST)
    assert str(old.with_version("1.27", None)) == "nginx:1.27"  # stale digest dropped
    new_digest = "sha256:" + "b" * 64
    assert str(old.with_version("1.27", new_digest)) == f"nginx:1.27@{new_digest}"
    digest_only = ImageRef("nginx", None, DIGEST)
    assert str(digest_only.with_version("1.27", new_digest)) == f"nginx@{new_digest}"
    assert str(ImageRef("nginx", "1.25").with_version(None, new_digest)) == f"nginx@{new_digest}"
