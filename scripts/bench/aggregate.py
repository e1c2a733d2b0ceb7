#!/usr/bin/env python3
"""Markdown section of BENCHMARKS.md from the per-file verdicts and the whole-corpus timings.

usage: aggregate.py VERDICTS_CSV HYPERFINE_JSON META_JSON > section.md

Outcomes per file and tool (run_tools.py): malicious, benign, error, skipped. Detection counts a
malicious file as detected when the tool says malicious; "flagged" adds the files the tool could
not check (error). For aiposture: dangerous / suspicious -> malicious, unparseable / error ->
error, clean / benign_library -> benign, not_a_model -> skipped (none of the last three is a
flag). A benign file is a false positive when the tool says malicious; its errors are counted
apart. Unknown-labelled files are left out of the counts and listed with every tool's outcome.
"""
import collections
import csv
import json
import statistics
import sys

rows = list(csv.DictReader(open(sys.argv[1])))
timing = json.load(open(sys.argv[2]))["results"]
meta = json.load(open(sys.argv[3]))
TOOLS = meta["tools"]  # order of the columns; the first is aiposture
REF = "picklescan"

by = collections.defaultdict(dict)  # path -> tool -> row
files = {}
for r in rows:
    by[r["path"]][r["tool"]] = r
    files[r["path"]] = r
label_of = {p: r["label"] for p, r in files.items()}


def count(paths, tool, outcome):
    return sum(1 for p in paths if by[p][tool]["outcome"] == outcome)


def families(label):
    fam = collections.defaultdict(list)
    for p, r in files.items():
        if r["label"] == label:
            fam[r["family"]].append(p)
    return dict(sorted(fam.items()))


mal, ben = families("malicious"), families("benign")
all_mal = [p for ps in mal.values() for p in ps]
all_ben = [p for ps in ben.values() for p in ps]
unknown = sorted(p for p, l in label_of.items() if l == "unknown")
out = []
w = out.append

w(f"## Scanners on public corpora (`scripts/bench-scanners.sh`, {meta['date']})\n")
w(f"{meta['machine']}; 1-minute load average {meta.get('load', 0):.1f} at the end of the run (other "
  f"jobs on the host inflate absolute times alike; ratios are within this run). Every file of the corpus below is scanned by each tool in its own process "
  f"(`/usr/bin/time -v` around it, {meta['jobs']} at a time), and the whole corpus once more "
  f"by each tool as one process over its directory (hyperfine, {meta['runs']} runs, 1 warm-up, "
  f"page cache warm). Ratios are against {REF}, measured in the same run. Tools: "
  + ", ".join(f"{t} {meta['versions'][t]}" for t in TOOLS)
  + f" (Python {meta['python']}). Invocations: {meta['invocations']}\n")
w("Mapping: a tool's *detection* is its malicious verdict (aiposture: `dangerous` or "
  "`suspicious`; picklescan: an infected file, its suspicious-only globals not counted; "
  "modelscan: any issue; fickling: severity above `LIKELY_SAFE`); *flagged* adds the files it "
  "could not check (aiposture: `unparseable` or `error`; the peers: a scan error, a crash, or "
  "fickling's parse error). `clean`, `benign_library` and `not_a_model` (skipped by the peers: "
  "unsupported format) are not flags.\n")

w("### Corpus\n")
w("Malicious and benign labels are the suites' own (file names, test assertions; see "
  "`scripts/bench/fixtures.py` and `gen_suites.py`); the real-library files are benign by "
  "construction. Sources: " + "; ".join(meta["sources"]) + ".\n")
w("| family | label | files |")
w("|---|---|---|")
for lab, fams in (("malicious", mal), ("benign", ben)):
    for f, ps in fams.items():
        w(f"| {f} | {lab} | {len(ps)} |")
w(f"| unknown (listed at the end, not counted) | unknown | {len(unknown)} |")
w(f"| **total** | | **{len(files)}** ({len(all_mal)} malicious, {len(all_ben)} benign) |\n")

tmean = {r["command"]: r for r in timing}


def tm(tool):
    r = [x for x in timing if x["command"].startswith(tool)]
    return r[0] if r else None


ref_t = tm(REF)["mean"]
rss = {t: [int(by[p][t]["max_rss_kib"]) for p in files] for t in TOOLS}
pfw = {t: [float(by[p][t]["wall_s"]) for p in files] for t in TOOLS}
ref_rss = max(rss[REF])
ref_pf = statistics.median(pfw[REF])

w("### Summary\n")
w(f"| tool | malicious detected (of {len(all_mal)}) | flagged incl. errors | benign flagged malicious (of {len(all_ben)}) | "
  "benign errors | whole corpus, one process | ratio to picklescan | median per-file process | "
  "ratio | max peak RSS of a per-file process | ratio |")
w("|---|---|---|---|---|---|---|---|---|---|---|")
for t in TOOLS:
    det = count(all_mal, t, "malicious")
    flg = det + count(all_mal, t, "error")
    fp = count(all_ben, t, "malicious")
    be = count(all_ben, t, "error")
    tt = tm(t)["mean"]
    pf = statistics.median(pfw[t])
    mx = max(rss[t])
    b = "**" if t == TOOLS[0] else ""
    w(f"| {t} | {b}{det}{b} ({100 * det / len(all_mal):.1f}%) | {flg} ({100 * flg / len(all_mal):.1f}%) | "
      f"{b}{fp}{b} | {be} | {tt:.2f} s | {b}{tt / ref_t:.2f}{b} | {1000 * pf:.0f} ms | {b}{pf / ref_pf:.2f}{b} | "
      f"{mx / 1024:.1f} MiB | {b}{mx / ref_rss:.2f}{b} |")
a = TOOLS[0]
vc = collections.Counter(by[p][a]["verdict"] for p in all_mal)
vb = collections.Counter(by[p][a]["verdict"] for p in all_ben)
w("")
w(f"aiposture's verdicts on the malicious files: "
  + ", ".join(f"{k} {v}" for k, v in vc.most_common())
  + "; on the benign files: " + ", ".join(f"{k} {v}" for k, v in vb.most_common()) + ".\n")

w("### Detection per malicious family\n")
w("Detected / files; `+n err` = files the tool could not check (flagged, not detected); "
  "`n skip` = not scanned at all.\n")
w("| family | files | " + " | ".join(TOOLS) + " |")
w("|---|---|" + "---|" * len(TOOLS))


def cell(ps, t, good):
    n = count(ps, t, good)
    e = count(ps, t, "error")
    s = count(ps, t, "skipped")
    extra = (f" +{e} err" if e else "") + (f", {s} skip" if s else "")
    return f"{n}/{len(ps)}{extra}"


for f, ps in mal.items():
    w(f"| {f} | {len(ps)} | " + " | ".join(cell(ps, t, "malicious") for t in TOOLS) + " |")
w(f"| **all** | **{len(all_mal)}** | " + " | ".join(f"**{cell(all_mal, t, 'malicious')}**" for t in TOOLS) + " |\n")

w("### False positives per benign family\n")
w("Files the tool called malicious / files; `+n err` = could not check; `n skip` = not scanned.\n")
w("| family | files | " + " | ".join(TOOLS) + " |")
w("|---|---|" + "---|" * len(TOOLS))
for f, ps in ben.items():
    w(f"| {f} | {len(ps)} | " + " | ".join(cell(ps, t, "malicious") for t in TOOLS) + " |")
w(f"| **all** | **{len(all_ben)}** | " + " | ".join(f"**{cell(all_ben, t, 'malicious')}**" for t in TOOLS) + " |\n")


def esc(s):
    return s.replace("|", "\\|").replace("\n", " ")


tf = sorted(p for p in files if "modelscan-tf" in by[p])
if tf:
    w(f"### modelscan with its tensorflow extra ({meta['versions'].get('modelscan-tf', '')}), Keras and TensorFlow files\n")
    w("Its Keras Lambda and SavedModel scanners need TensorFlow, which every modelscan process then "
      "imports; so the columns above are modelscan without it, and this run covers only the "
      f"`.h5`, `.keras` and `.pb` files. Median per-file process: "
      f"{1000 * statistics.median(float(by[p]['modelscan-tf']['wall_s']) for p in tf):.0f} ms, peak RSS up to "
      f"{max(int(by[p]['modelscan-tf']['max_rss_kib']) for p in tf) / 1024:.0f} MiB.\n")
    w("| file | label | aiposture | modelscan | modelscan + tensorflow |")
    w("|---|---|---|---|---|")
    for p in tf:
        w(f"| `{p}` | {label_of[p]} | {by[p][a]['verdict']} | {by[p]['modelscan']['outcome']} | "
          f"{by[p]['modelscan-tf']['outcome']} |")
    w("")


misses = [p for p in all_mal if by[p][a]["outcome"] != "malicious"]
w(f"### Malicious files aiposture does not detect ({len(misses)})\n")
if misses:
    w("Verdict `unparseable` / `error` still fails the scan (exit 1), so those are flagged, not passed.\n")
    w("| file | family / technique | aiposture verdict | aiposture's reasons | detected by |")
    w("|---|---|---|---|---|")
    for p in sorted(misses, key=lambda p: (by[p][a]["outcome"], p)):
        r = by[p][a]
        peers = ", ".join(t for t in TOOLS[1:] if by[p][t]["outcome"] == "malicious") or "none"
        w(f"| `{p}` | {esc(r['family'])}: {esc(r['technique'])} | {r['verdict']} | {esc(r['reasons'][:300]) or '–'} | {peers} |")
    w("")
fps = [p for p in all_ben if by[p][a]["outcome"] in ("malicious", "error")]
w(f"### Benign files aiposture flags ({len(fps)})\n")
if fps:
    w("| file | family / what it is | aiposture verdict | aiposture's reasons | also flagged by |")
    w("|---|---|---|---|---|")
    for p in sorted(fps):
        r = by[p][a]
        peers = ", ".join(t for t in TOOLS[1:] if by[p][t]["outcome"] in ("malicious", "error")) or "none"
        w(f"| `{p}` | {esc(r['family'])}: {esc(r['technique'])} | {r['verdict']} | {esc(r['reasons'][:300]) or '–'} | {peers} |")
    w("")

w(f"### Unknown-labelled files ({len(unknown)}, not counted)\n")
w("| file | why unknown | " + " | ".join(TOOLS) + " |")
w("|---|---|" + "---|" * len(TOOLS))
for p in unknown:
    w(f"| `{p}` | {esc(files[p]['technique'])} | "
      + " | ".join(by[p][t]["verdict"] if t == a else by[p][t]["outcome"] for t in TOOLS) + " |")
w("")
w(f"Per-file verdicts of every tool, with reasons, exit codes, wall time and peak RSS: "
  f"`{meta['csv']}` (not in the repository). This run of the script took {meta['elapsed_s']} s "
  + ("(corpus built in it)." if meta["corpus_built"] else "(venvs, suite sources and corpus from its cache)."))
print("\n".join(out))
