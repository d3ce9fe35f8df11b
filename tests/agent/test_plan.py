"""Sync plans and prune selection, on literal desired/live/inventory values."""

from __future__ import annotations

import pytest

from updater.agent.inventory import Inventory, from_configmap, from_objects, select_prune, to_configmap
from updater.agent.objects import APP_LABEL, key_of, mark
from updater.agent.plan import NamespaceRefused, make_plan, refuse_foreign


def cm(name: str, ns: str = "team", data: str = "1") -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": {"v": data}}


def as_live(obj: dict, **changes: object) -> dict:
    live = {**obj, "metadata": {**obj["metadata"], "uid": "x", "resourceVersion": "7"}, **changes}
    return live


def index(*objects: dict) -> dict:
    return {key_of(o): o for o in objects}


def test_steady_state_has_nothing_to_do() -> None:
    desired = [mark(cm("a"), app="shop"), mark(cm("b"), app="shop")]
    plan = make_plan(desired, index(*map(as_live, desired)), None, app="shop", prune=True)
    assert plan.in_sync and plan.unchanged == 2


def test_missing_changed_and_drifted_are_told_apart() -> None:
    a, b, c = mark(cm("a"), app="shop"), mark(cm("b"), app="shop"), mark(cm("c"), app="shop")
    b_old = as_live(mark(cm("b", data="old"), app="shop"))  # git changed b since it was applied
    c_edited = as_live(c, data={"v": "edited by hand"})  # same hash, a field of ours differs
    plan = make_plan([a, b, c], index(b_old, c_edited), None, app="shop", prune=False)
    assert [(s.key.name, s.reason) for s in plan.steps] == [("a", "missing"), ("b", "changed"), ("c", "drifted")]
    assert [k.name for k in plan.drifted] == ["c"]


def test_extra_live_fields_are_not_drift() -> None:
    a = mark(cm("a"), app="shop")
    live = as_live(a, data={"v": "1", "added-by-someone": "x"})
    assert make_plan([a], index(live), None, app="shop", prune=False).in_sync


def test_prune_selects_only_previous_no_longer_desired_ours_and_allowed() -> None:
    keep, gone, foreign, outside = cm("keep"), cm("gone"), cm("foreign"), cm("outside", ns="kube-system")
    previous = from_objects("shop", [keep, gone, foreign, outside, cm("already-deleted")])
    live = index(
        *(as_live(mark(o, app="shop")) for o in (keep, gone, outside)),
        as_live(mark(foreign, app="other")),
        as_live(cm("never-ours")),
    )
    chosen = select_prune(previous, [key_of(keep)], live, app="shop", allowed_namespaces=("team",))
    assert [k.name for k in chosen.delete] == ["gone"]
    assert any("foreign" in n and f"{APP_LABEL}=other" in n for n in chosen.notes)
    assert any("outside" in n and "allowed namespaces" in n for n in chosen.notes)


def test_prune_never_touches_what_was_not_in_the_previous_inventory() -> None:
    live = index(as_live(mark(cm("stray"), app="shop")))
    assert select_prune(None, [], live, app="shop").delete == ()
    assert select_prune(Inventory("shop"), [], live, app="shop").delete == ()


def test_empty_render_prunes_nothing_unless_allowed() -> None:
    old = mark(cm("old"), app="shop")
    previous = from_objects("shop", [old])
    plan = make_plan([], index(as_live(old)), previous, app="shop", prune=True)
    assert plan.in_sync and "render is empty" in plan.notes[0]
    allowed = make_plan([], index(as_live(old)), previous, app="shop", prune=True, allow_empty_prune=True)
    assert [k.name for k in allowed.prune.delete] == ["old"]


def test_prune_disabled_deletes_nothing() -> None:
    old = mark(cm("old"), app="shop")
    plan = make_plan([mark(cm("new"), app="shop")], index(as_live(old)), from_objects("shop", [old]),
                     app="shop", prune=False)
    assert plan.prune.delete == ()


def test_prune_runs_in_reverse_apply_order() -> None:
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "team"}}
    objs = [ns, cm("a"), dep]
    live = index(*(as_live(mark(o, app="shop")) for o in objs))
    chosen = select_prune(from_objects("shop", objs), [], live, app="shop")
    assert [k.kind for k in chosen.delete] == ["Deployment", "ConfigMap", "Namespace"]


def test_objects_outside_allowed_namespaces_refuse_the_whole_plan() -> None:
    with pytest.raises(NamespaceRefused, match="ConfigMap kube-system/x is outside the allowed namespaces"):
        make_plan([mark(cm("x", ns="kube-system"), app="shop")], {}, None, app="shop", prune=False,
                  allowed_namespaces=("team",))


def test_inventory_round_trips_through_its_configmap() -> None:
    inventory = from_objects("shop", [cm("a"), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}],
                             status={"sync": "Synced"})
    configmap = to_configmap(inventory, namespace="updater-system")
    assert configmap["metadata"]["name"] == "updater-inventory-shop"
    assert APP_LABEL not in configmap["metadata"]["labels"]
    assert from_configmap("shop", configmap) == inventory
    assert from_configmap("shop", None) is None
    assert from_configmap("shop", {"data": {"objects": "garbage"}}) is None


def test_clean_versions_skip_the_field_check_until_the_live_object_changes() -> None:
    a = mark(cm("a"), app="shop")
    live = as_live(a)
    first = make_plan([a], index(live), None, app="shop", prune=False)
    assert first.in_sync and len(first.clean) == 1
    again = make_plan([a], index(live), None, app="shop", prune=False, clean=first.clean)
    assert again.in_sync and again.clean == first.clean
    edited = {**live, "data": {"v": "by hand"}, "metadata": {**live["metadata"], "resourceVersion": "8"}}
    drifted = make_plan([a], index(edited), None, app="shop", prune=False, clean=first.clean)
    assert [s.reason for s in drifted.steps] == ["drifted"] and drifted.clean == frozenset()


def test_objects_owned_by_another_app_are_refused_not_created() -> None:
    mine, theirs = mark(cm("mine"), app="shop"), mark(cm("theirs"), app="shop")
    plan = make_plan([mine, theirs], {}, None, app="shop", prune=False)
    kept, refused = refuse_foreign(plan, {key_of(theirs): "billing"})
    assert [s.key.name for s in kept.steps] == ["mine"]
    assert refused == ((key_of(theirs), "ConfigMap team/theirs belongs to app billing (updater.dev/app=billing): "
                                        "declare it in only one app"),)
    assert refuse_foreign(plan, {}) == (plan, ())


def test_a_secret_written_with_string_data_is_not_drift_once_stored_as_data() -> None:
    secret = mark({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "team"},
                   "stringData": {"token": "abc"}}, app="shop")
    stored = {k: v for k, v in secret.items() if k != "stringData"} | {"data": {"token": "YWJj"}}
    assert make_plan([secret], index(as_live(stored)), None, app="shop", prune=False).in_sync
    changed = stored | {"data": {"token": "eHl6"}}
    assert [s.reason for s in make_plan([secret], index(as_live(changed)), None, app="shop", prune=False).steps] == ["drifted"]
