#!/usr/bin/env python3
"""Recompute every case in vectors.json from the algorithm as the package
comment of experiments/assign describes it, sharing no code with the Go
implementation. Exits 1 on the first kind of mismatch it reports.

    python3 experiments/assign/testdata/vectors_check.py [path/to/vectors.json]
"""
import json
import math
import os
import sys

MASK = (1 << 64) - 1


def hash64(seed, purpose, unit_id):
    h = 0xCBF29CE484222325
    data = seed.encode("utf-8") + b"\x00" + purpose.encode("utf-8") + b"\x00" + unit_id.encode("utf-8")
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & MASK
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & MASK
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & MASK
    h ^= h >> 33
    return h


def point(seed, purpose, unit_id):
    return (hash64(seed, purpose, unit_id) >> 11) * 2.0**-53


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def is_scalar(v):
    return isinstance(v, (str, bool)) or (is_number(v) and math.isfinite(v))


def equal(got, want):
    if isinstance(want, bool):
        return isinstance(got, bool) and got == want
    if isinstance(want, str):
        return isinstance(got, str) and got == want
    return is_number(got) and is_number(want) and got == want


def matches(cond, attrs):
    name, op, want = cond.get("attribute", ""), cond.get("op"), cond.get("value")
    if not name or attrs.get(name) is None:
        return False
    got = attrs[name]
    if op in ("eq", "neq"):
        return is_scalar(want) and equal(got, want) == (op == "eq")
    if op in ("in", "not_in"):
        if not isinstance(want, list) or not want or not all(is_scalar(w) for w in want):
            return False
        return any(equal(got, w) for w in want) == (op == "in")
    if op in ("lt", "lte", "gt", "gte"):
        if not (is_number(want) and math.isfinite(want) and is_number(got)) or got != got:
            return False
        return {"lt": got < want, "lte": got <= want, "gt": got > want, "gte": got >= want}[op]
    return False


def assign(d, unit_id, attrs):
    variants = d.get("variants") or []
    weights = [v["weight"] for v in variants]
    controls = [v for v in variants if v.get("control")]
    total = 0.0
    for w in weights:
        total += w
    usable = (
        variants
        and 0 < d.get("traffic", 0) <= 1
        and all(w > 0 and math.isfinite(w) for w in weights)
        and len(controls) == 1
        and math.isfinite(total)
    )
    if not usable:
        return (variants[0]["key"] if variants else "", False, "invalid_definition", None)
    control = controls[0]["key"]
    if d.get("status") != "running":
        return (control, False, "not_running", None)
    if not all(matches(c, attrs) for c in d.get("targeting") or []):
        return (control, False, "not_targeted", None)
    for h in d.get("holdouts") or []:
        if point(h["salt"], "holdout", unit_id) < h["share"]:
            return (control, False, "held_out", h["key"])
    layer = d.get("layer")
    if layer is not None and not (layer["lo"] <= point(layer["salt"], "layer", unit_id) < layer["hi"]):
        return (control, False, "outside_layer", None)
    if not point(d["salt"], "traffic", unit_id) < d["traffic"]:
        return (control, False, "outside_traffic", None)
    v = point(d["salt"], "variant", unit_id)
    cumulative = 0.0
    for variant in variants[:-1]:
        cumulative += variant["weight"]
        if v < cumulative / total:
            return (variant["key"], True, "assigned", None)
    return (variants[-1]["key"], True, "assigned", None)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "vectors.json")
    with open(path, encoding="utf-8") as f:
        vectors = json.load(f)
    failures = 0
    if vectors.get("version") != "v1":
        print(f"version {vectors.get('version')!r}; this script implements v1")
        return 1
    for c in vectors["points"]:
        h = hash64(c["seed"], c["purpose"], c["unit_id"])
        p = (h >> 11) * 2.0**-53
        if f"{h:016x}" != c["hash64"] or p != c["point"]:
            failures += 1
            print(f"point {c['seed']!r} {c['purpose']!r} {c['unit_id']!r}: got {h:016x} {p!r}, file has {c['hash64']} {c['point']!r}")
    for c in vectors["assignments"]:
        got = assign(c["definition"], c["unit_id"], c["attributes"])
        want = (c["variant"], c["in_experiment"], c["reason"], c.get("holdout"))
        # A factorial cell's factor levels are the assigned variant's.
        factors = next((v.get("factors") for v in c["definition"].get("variants") or [] if v["key"] == got[0]), None)
        got, want = got + (factors,), want + (c.get("factors"),)
        if got != want:
            failures += 1
            print(f"assignment {c['name']}: got {got}, file has {want}")
    print(f"{len(vectors['points'])} point and {len(vectors['assignments'])} assignment cases, {failures} mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
