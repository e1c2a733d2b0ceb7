#!/usr/bin/env python3
"""Run every scanner on every corpus file, one process per file, and write the verdicts.

usage: run_tools.py CORPUS_FILES MANIFEST_DIR OUT_CSV JOBS TOOL=CMD...

CMD is a command prefix (split on spaces); the file path is appended, except for modelscan,
which gets `-p FILE -r json -o REPORT`. Each run is wrapped in GNU time (`/usr/bin/time -v`)
for its wall time and peak RSS. Per file and tool the CSV holds: outcome (malicious / benign /
error / skipped), the tool's own verdict, the reasons it gave, exit code, wall seconds and
peak RSS in KiB. Standard library only.
"""
import concurrent.futures as cf
import csv
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time

FILES, MANIFEST, OUT, JOBS = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
TOOLS = dict(a.split("=", 1) for a in sys.argv[5:])


def manifest():
    rows = []
    for m in sorted(glob.glob(os.path.join(MANIFEST, "*.jsonl"))):
        for line in open(m):
            rows.append(json.loads(line))
    listed = {r["path"] for r in rows}
    for d, _, fs in os.walk(FILES):
        for f in fs:
            rel = os.path.relpath(os.path.join(d, f), FILES)
            if rel not in listed:
                print(f"warning: {rel} is in the corpus but in no manifest", file=sys.stderr)
    return rows


def timed(cmd, cwd=None):
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        t0 = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-v", "-o", t.name, *cmd], capture_output=True, text=True,
                           errors="replace", cwd=cwd)
        wall = time.perf_counter() - t0
        tv = t.read()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", tv).group(1))
    return p, wall, rss


def aiposture(prefix, path):
    p, wall, rss = timed([*prefix, path])
    try:
        files = json.loads(p.stdout)["files"]
    except (ValueError, KeyError):
        return "error", "crash", p.stderr.strip()[-300:], p.returncode, wall, rss
    order = ["not_a_model", "clean", "benign_library", "error", "unparseable", "suspicious", "dangerous"]
    worst = max((f["verdict"] for f in files), key=order.index, default="not_a_model")
    reasons = " | ".join(r for f in files for r in f.get("reasons", []))
    outcome = {"dangerous": "malicious", "suspicious": "malicious", "unparseable": "error",
               "error": "error"}.get(worst, "benign")
    if worst == "not_a_model":
        outcome = "skipped"
    return outcome, worst, reasons, p.returncode, wall, rss


def picklescan(prefix, path):
    p, wall, rss = timed([*prefix, "-p", path])
    out = p.stdout + p.stderr
    scanned = re.search(r"Scanned files: (\d+)", out)
    reasons = " | ".join(
        line.strip() for line in out.splitlines()
        if "dangerous" in line.lower() and "globals:" not in line.lower() or "ERROR" in line
    )[:500]
    infected = re.search(r"Infected files: (\d+)", out)
    suspicious = re.search(r"Suspicious globals: (\d+)", out)
    note = f", {suspicious.group(1)} suspicious globals" if suspicious and suspicious.group(1) != "0" else ""
    if infected and infected.group(1) != "0":
        return "malicious", "infected" + note, reasons, p.returncode, wall, rss
    if p.returncode != 0 or "ERROR" in out:
        return "error", "scan error", reasons or out.strip()[-300:], p.returncode, wall, rss
    if scanned and scanned.group(1) == "0":
        return "skipped", "not scanned", "", p.returncode, wall, rss
    return "benign", "clean" + note, "", p.returncode, wall, rss


def modelscan(prefix, path):
    with tempfile.TemporaryDirectory() as d:
        report = os.path.join(d, "r.json")
        p, wall, rss = timed([*prefix, "-p", path, "-r", "json", "--show-skipped", "-o", report], cwd=d)
        try:
            r = json.load(open(report))
        except (OSError, ValueError):
            r = None
    if r is None:
        return "error", f"exit {p.returncode}", (p.stdout + p.stderr).strip()[-300:], p.returncode, wall, rss
    issues = r.get("issues", [])
    errors = r.get("errors", [])
    summary = r.get("summary", {})
    scanned = summary.get("scanned", {}).get("total_scanned", None)
    if issues:
        sev = sorted({i.get("severity", "?") for i in issues})
        reasons = " | ".join(
            f"{i.get('severity')}: {i.get('operator') or i.get('description', '')}"[:120] for i in issues[:5]
        )
        return "malicious", "issues " + "/".join(sev), reasons, p.returncode, wall, rss
    if errors:
        reasons = " | ".join(str(e.get("description", e))[:200] for e in errors[:3])
        return "error", "scan error", reasons, p.returncode, wall, rss
    if scanned == 0:
        skipped = summary.get("skipped", {}).get("skipped_files", [])
        why = " | ".join(f"{s.get('category')}: {s.get('description')}"[:150] for s in skipped[:3])
        return "skipped", "not scanned", why, p.returncode, wall, rss
    return "benign", "no issues", "", p.returncode, wall, rss


def fickling(prefix, path):
    p, wall, rss = timed([*prefix, path])
    lines = [json.loads(x) for x in p.stdout.splitlines() if x.startswith("{")]
    if not lines:
        return "error", "crash", p.stderr.strip()[-300:], p.returncode, wall, rss
    o = lines[0]
    outcome = {"unsupported": "skipped"}.get(o["outcome"], o["outcome"])
    return outcome, o["outcome"], o["detail"][:500], p.returncode, wall, rss


RUNNERS = {"aiposture": aiposture, "picklescan": picklescan, "modelscan": modelscan, "fickling": fickling,
           "modelscan-tf": modelscan}
# modelscan with its tensorflow extra imports TensorFlow in every process: run on Keras/TF files only.
ONLY = {"modelscan-tf": (".h5", ".keras", ".pb")}


def main():
    rows = manifest()
    jobs = [(r, t) for r in rows for t in TOOLS if r["path"].endswith(ONLY.get(t, ""))]
    results = {}

    def one(job):
        r, t = job
        return job, RUNNERS[t](TOOLS[t].split(" "), os.path.join(FILES, r["path"]))

    with cf.ThreadPoolExecutor(JOBS) as ex:
        for n, ((r, t), res) in enumerate(ex.map(one, jobs), 1):
            results[(r["path"], t)] = res
            if n % 200 == 0:
                print(f"  {n}/{len(jobs)} runs", file=sys.stderr)
    with open(OUT, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "label", "family", "technique", "source", "tool", "outcome", "verdict", "reasons",
                    "exit", "wall_s", "max_rss_kib"])
        for r in rows:
            for t in TOOLS:
                if (r["path"], t) not in results:
                    continue
                o, v, why, rc, wall, rss = results[(r["path"], t)]
                why = why.replace(os.path.join(FILES, ""), "").replace("\n", " ")
                w.writerow([r["path"], r["label"], r["family"], r["technique"], r["source"], t, o, v,
                            why, rc, f"{wall:.3f}", rss])
    print(f"{len(rows)} files x {len(TOOLS)} tools -> {OUT}", file=sys.stderr)


main()
