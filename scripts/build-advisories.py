#!/usr/bin/env python3
"""Convert the research file vulns.json into the embedded advisory set.

Usage: scripts/build-advisories.py PATH/TO/vulns.json

Writes one OSV JSON record per advisory under assets/advisories/<dir>/<ID>.json
(the per-ecosystem layout of an osv.dev export) and removes records that are no
longer in the input. Run it by hand when vulns.json changes and commit the output:
the build and the tests read only assets/, never the research file.

What is OSV and what is not (see assets/README.md, "advisories/"):
- PyPI and Go records are OSV 1.7 as the upstream databases publish them, less
  `details`, `references` beyond the source, and the `versions[]` enumerations
  (vulns.json keeps only their size; ranges carry the same information).
- llama.cpp and NVIDIA Triton have no package ecosystem. Their records use two
  private range types, `LLAMACPP_BUILD` (integer after `b`) and `TRITON_RELEASE`
  (YY.MM); aiposture evaluates them, other OSV tools will ignore them.
- `modified` is not in vulns.json: it is set to the date of the source snapshot
  the record was read from (or `published` when that is later), so the age of
  the embedded set is the age of the research snapshot.
- Each record keeps where it was read: references[0] (type ADVISORY) and
  database_specific.aiposture.source, with `confirmed` and the research notes.
"""

import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "assets", "advisories")

# Snapshot date of each primary source (vulns.md, section 0).
SNAPSHOTS = [
    ("https://github.com/pypa/advisory-database/", "2026-07-23T00:00:00Z"),
    ("https://github.com/golang/vulndb/", "2026-08-21T00:00:00Z"),
    ("https://github.com/CVEProject/cvelistV5/", "2026-08-25T00:00:00Z"),
]
# Secondary copies, vendor bulletins and NVD pages were read during the same
# research (2026-08); their records carry `confirmed: false` or a bulletin note.
DEFAULT_SNAPSHOT = "2026-08-25T00:00:00Z"

LLAMA_REPO = "https://github.com/ggml-org/llama.cpp"


def rfc3339(s):
    """'2025-04-30 01:15:51+00:00' / '2025-03-20T10:15:46.327Z' -> '...Z' (UTC)."""
    if not s:
        return None
    m = re.match(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})", s)
    if not m:
        raise SystemExit(f"unreadable date {s!r}")
    if not (s.endswith("Z") or s.endswith("+00:00")):
        raise SystemExit(f"date not in UTC {s!r}")
    return f"{m.group(1)}T{m.group(2)}Z"


def snapshot_of(source):
    for prefix, date in SNAPSHOTS:
        if source.startswith(prefix):
            return date
    return DEFAULT_SNAPSHOT


def events(r):
    ev = [{"introduced": r["introduced"]}]
    for key in ("fixed", "last_affected", "limit"):
        if key in r:
            ev.append({key: r[key]})
    return ev


def osv_range(r):
    out = {"type": r["type"]}
    if "repo" in r:
        out["repo"] = r["repo"]
    out["events"] = events(r)
    return out


def directory_and_affected(v):
    eco, pkg = v["ecosystem"], v["package"]
    ranges = [osv_range(r) for r in v["ranges"]]
    if eco in ("PyPI", "Go"):
        package = {"ecosystem": eco, "name": pkg}
        if v.get("purl"):
            package["purl"] = v["purl"]
        return eco, [{"package": package, "ranges": ranges}]
    if pkg == "tritonserver":
        # No OSV ecosystem: a private one, with YY.MM release ranges.
        return "Triton", [{"package": {"ecosystem": "Triton", "name": "tritonserver"}, "ranges": ranges}]
    if pkg.startswith("https://github.com/"):
        # CVE-derived C/C++ and app records: as on osv.dev, no package, the repo
        # on each range (the build-number ranges are ours, GIT ones are OSV's).
        for r in ranges:
            r.setdefault("repo", pkg)
        affected = [{"ranges": ranges}] if ranges else []
        return "GIT", affected
    raise SystemExit(f"{v['id']}: no directory for ecosystem {eco!r} package {pkg!r}")


def record(v):
    directory, affected = directory_and_affected(v)
    published = rfc3339(v.get("published"))
    modified = snapshot_of(v["source"])
    if published and published > modified:
        modified = published
    rec = {
        "schema_version": "1.7.4",
        "id": v["id"],
        "modified": modified,
    }
    if published:
        rec["published"] = published
    if v.get("withdrawn"):
        rec["withdrawn"] = rfc3339(v["withdrawn"])
    rec["aliases"] = sorted(v["aliases"])
    rec["summary"] = v["summary"]
    severity = [{"type": s["type"], "score": s["vector"]} for s in v["severity"]]
    if severity:
        rec["severity"] = severity
    rec["affected"] = affected
    refs = [{"type": "ADVISORY", "url": v["source"]}]
    for key in ("advisory_url", "osv_url"):
        if v.get(key) and v[key] != v["source"]:
            refs.append({"type": "WEB", "url": v[key]})
    rec["references"] = refs
    aip = {"source": v["source"], "confirmed": v["confirmed"], "component": v["component"]}
    for key in ("notes", "review_status", "ghsa_ranges", "versions_listed", "text_derived_ranges"):
        if key in v:
            aip[key] = v[key]
    scored = [
        {k: s[k] for k in ("type", "base_score", "base_score_source", "rating", "from") if k in s}
        for s in v["severity"]
        if "base_score" in s or "from" in s
    ]
    if scored:
        aip["severity_sources"] = scored
    rec["database_specific"] = {"aiposture": aip}
    return directory, rec


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        vulns = json.load(f)
    written = set()
    for v in vulns:
        directory, rec = record(v)
        os.makedirs(os.path.join(OUT, directory), exist_ok=True)
        rel = os.path.join(directory, v["id"] + ".json")
        if rel in written:
            raise SystemExit(f"duplicate id {v['id']} in {directory}")
        written.add(rel)
        with open(os.path.join(OUT, rel), "w", encoding="utf-8") as f:
            json.dump(rec, f, indent=2, ensure_ascii=False)
            f.write("\n")
    for directory, _, files in os.walk(OUT):
        for name in files:
            rel = os.path.relpath(os.path.join(directory, name), OUT)
            if name.endswith(".json") and rel not in written:
                os.remove(os.path.join(OUT, rel))
    print(f"{len(written)} records written under {os.path.relpath(OUT, ROOT)}/")


if __name__ == "__main__":
    main()
