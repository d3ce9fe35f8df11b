"""A service account bound by Roles only: which requests it may make (pure, no I/O).

`KubeApiServer(namespaces=(...))` answers 403 Forbidden, with the API server's own wording, to any
request outside those namespaces: cluster-wide lists, cluster-scoped kinds, other namespaces.
Discovery, `/version` and OpenAPI stay open, as they are for every authenticated user. This is the
one slice of RBAC the emulator enforces, so clients can be tested under least privilege.
"""

from __future__ import annotations

from updater_sandbox.kube.errors import ApiError

_OPEN_PREFIXES = ("/version", "/openapi", "/healthz", "/readyz", "/livez")


def forbidden_outside(path: str, method: str, namespaces: tuple[str, ...]) -> ApiError | None:
    """The 403 a Role-bound caller gets for `path`, or None when the request is inside its namespaces."""
    if path.startswith(_OPEN_PREFIXES):
        return None
    parts = [p for p in path.split("/") if p]
    # discovery: /api, /api/v1, /apis, /apis/<group>, /apis/<group>/<version>
    if (parts[:1] == ["api"] and len(parts) <= 2) or (parts[:1] == ["apis"] and len(parts) <= 3):
        return None
    rest = parts[2:] if parts[:1] == ["api"] else parts[3:]
    if len(rest) >= 3 and rest[0] == "namespaces" and rest[1] in namespaces:
        return None
    resource = rest[2] if len(rest) >= 3 and rest[0] == "namespaces" else (rest[0] if rest else "")
    where = f'in the namespace "{rest[1]}"' if len(rest) >= 2 and rest[0] == "namespaces" else "at the cluster scope"
    verb = {"GET": "list" if len(rest) in (1, 3) else "get", "PATCH": "patch", "PUT": "update",
            "POST": "create", "DELETE": "delete"}.get(method, method.lower())
    return ApiError(403, "Forbidden",
                    f'{resource} is forbidden: User "system:serviceaccount:updater:updater" cannot {verb} '
                    f'resource "{resource}" {where}')
