"""A Kubernetes API server emulator that keeps real state, for tests and `updater demo`.

No real cluster can run here, so this package answers the Kubernetes REST API on 127.0.0.1 well
enough for the real kubectl (`get`, `apply --server-side`, `diff --server-side`, `delete`, `-l`,
`edit`/`patch`) and for updater's agent. Start one with `server.KubeApiServer`; tests get one from
the pytest plugin (`pytest_plugin`: fixtures `kube_api`, `kubeconfig`, `kubectl`).

Emulated:
- discovery (legacy and aggregated `apidiscovery.k8s.io/v2`) and enough OpenAPI v3 for kubectl;
- CRUD for the built-in kinds in `discovery.BUILTIN` and for kinds added by CustomResourceDefinitions
  (which become `Established` at once, or when a test releases them, and leave discovery when
  deleted, taking their objects along);
- list with label selectors (equality and set-based), field selectors, `limit`/`continue`, Tables;
- a global `resourceVersion`, 409 Conflict on a stale one, uid/creationTimestamp/generation,
  no-op writes that do not bump the resourceVersion, `Status` error bodies;
- server-side apply with per-manager `managedFields`, conflicts unless forced, removal of fields
  an applier dropped and owned alone, `dryRun=All`; merge, strategic-merge and JSON patches;
- a few server defaults and validations (see `validation`), including immutable fields;
- the `status` subresource (tests write any status with `KubeApiServer.set_status`), workload
  rollout status written by a stand-in controller whose outcome tests can steer (`controller`),
  `scale`, finalizers, namespace and owner-reference deletion;
- watches (replayed from a bounded event log), optional bearer-token auth, a request log;
- one slice of RBAC: `KubeApiServer(namespaces=...)` acts as a caller bound by Roles in those
  namespaces (403 Forbidden elsewhere; `scope`).

Deliberately not emulated: admission (webhooks, quotas, RBAC rules — apart from the namespace
scope above every authenticated request is allowed), field-name/schema validation (`fieldValidation` is accepted and ignored),
pods/ReplicaSets/scheduling (status counts are reported, not simulated), version conversion (each
CRD version is stored as sent), protobuf/CBOR, TLS, YAML request bodies (send JSON, which is YAML),
and core/v1 and events.k8s.io/v1 Events are stored separately.
"""
