//! Hostile model files, generated at test time from the real fixtures: cut at
//! every offset (every section boundary included), lengths and counts set to
//! u64::MAX, wrong magic, pickles nested 40 deep, zips with traversal names,
//! duplicate members, a 1 GiB bomb and lying sizes. The real binary scans them
//! all in one run and must exit normally, give every file a clear error or an
//! honest verdict (never `clean` for a cut pickle), and stay under a memory bound.
// Tests signal, reap and measure the processes they start: kill(2) and
// wait4(2) have no safe wrapper in std.
#![allow(unsafe_code)]

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::*;

/// Peak resident memory allowed to one `aiposture scan` of the hostile corpus.
/// The largest allocation it should make is the 5 MiB memo-flood pickle and the
/// walker's memo for it (a million entries).
const RSS_BOUND_KIB: i64 = 128 * 1024;

fn fixture(rel: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn make_zips(real: &Path, hostile: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/make_hostile_zips.py");
    let pickles = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pickle");
    let out = Command::new(python())
        .arg(script)
        .arg(pickles)
        .arg(real)
        .arg(hostile)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "make_hostile_zips.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ------------------------------------------------------------------ GGUF layout

/// Offsets inside a GGUF v2/v3 header, found by walking it: where each
/// key-value starts, where each string length and array count sits, and where
/// the key-value section ends.
#[derive(Default)]
struct GgufLayout {
    kv_starts: Vec<usize>,
    string_lens: Vec<usize>,
    array_lens: Vec<usize>,
    kv_end: usize,
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn gguf_layout(b: &[u8]) -> GgufLayout {
    assert_eq!(&b[..4], b"GGUF");
    let mut l = GgufLayout::default();
    let kv_count = u64_at(b, 16);
    let mut at = 24;
    fn value(b: &[u8], t: u32, at: &mut usize, l: &mut GgufLayout) {
        match t {
            0 | 1 | 7 => *at += 1,
            2 | 3 => *at += 2,
            4..=6 => *at += 4,
            10..=12 => *at += 8,
            8 => {
                l.string_lens.push(*at);
                *at += 8 + u64_at(b, *at) as usize;
            }
            9 => {
                let et = u32::from_le_bytes(b[*at..*at + 4].try_into().expect("4"));
                l.array_lens.push(*at + 4);
                let n = u64_at(b, *at + 4);
                *at += 12;
                for _ in 0..n {
                    value(b, et, at, l);
                }
            }
            t => panic!("GGUF value type {t}"),
        }
    }
    for _ in 0..kv_count {
        l.kv_starts.push(at);
        l.string_lens.push(at);
        at += 8 + u64_at(b, at) as usize;
        let t = u32::from_le_bytes(b[at..at + 4].try_into().expect("4"));
        at += 4;
        value(b, t, &mut at, &mut l);
    }
    l.kv_end = at;
    l
}

fn patched(b: &[u8], at: usize, v: &[u8]) -> Vec<u8> {
    let mut out = b.to_vec();
    out[at..at + v.len()].copy_from_slice(v);
    out
}

// ------------------------------------------------------------------ the corpus

struct Corpus {
    dir: PathBuf,
    /// File name → what an honest answer is.
    expect: BTreeMap<String, Expect>,
}

#[derive(Clone, Copy, Debug)]
enum Expect {
    /// A clear error (or not recognised at all, for cuts inside the magic).
    ErrorOrNotModel,
    /// Anything but `clean`: a cut pickle can hide what follows (a cut
    /// inside the magic is not recognised at all, which is honest too).
    NotClean,
    /// Only needs to come through without a crash (cut after a complete header).
    AnyVerdict,
    Is(&'static str),
}

impl Corpus {
    fn add(&mut self, name: String, bytes: &[u8], e: Expect) {
        std::fs::write(self.dir.join(&name), bytes).expect("write");
        self.expect.insert(name, e);
    }

    /// Cuts of `bytes`, judged by `e(cut)`: every offset of the first 256
    /// bytes (magic, counts, first entries), then every `step`th, plus every
    /// section boundary of the format.
    fn cuts(&mut self, stem: &str, bytes: &[u8], step: usize, e: impl Fn(usize) -> Expect) {
        let mut at: Vec<usize> = (1..bytes.len().min(256)).collect();
        at.extend((256..bytes.len()).step_by(step));
        at.extend(boundaries(stem, bytes));
        at.sort_unstable();
        at.dedup();
        for cut in at {
            self.add(format!("cut-{stem}-{cut:06}"), &bytes[..cut], e(cut));
        }
    }
}

/// Offsets where one section or field ends and the next begins.
fn boundaries(stem: &str, bytes: &[u8]) -> Vec<usize> {
    let mut v = if stem.ends_with("gguf") {
        let l = gguf_layout(bytes);
        // many_kv.gguf has thousands of entries: its first 64 of each kind.
        let mut v = vec![4, 8, 16, 24, l.kv_end];
        v.extend(l.kv_starts.iter().take(64).copied());
        v.extend(l.string_lens.iter().take(64).flat_map(|&s| [s, s + 8]));
        v.extend(l.array_lens.iter().take(64).flat_map(|&s| [s, s + 8]));
        v
    } else if stem.ends_with("safetensors") {
        vec![8, 9, 8 + u64_at(bytes, 0) as usize]
    } else {
        vec![]
    };
    v.retain(|&c| c > 0 && c < bytes.len());
    v
}

fn gguf_cut(kv_end: usize) -> impl Fn(usize) -> Expect {
    move |cut| {
        if cut < kv_end {
            Expect::ErrorOrNotModel
        } else {
            Expect::AnyVerdict
        }
    }
}

fn build_corpus(dir: PathBuf) -> Corpus {
    std::fs::create_dir_all(&dir).expect("mkdir");
    let mut c = Corpus {
        dir,
        expect: BTreeMap::new(),
    };

    // --- GGUF: cut everywhere (many_kv at boundaries and every 61st byte)
    for (name, step) in [
        ("provenance.gguf", 7),
        ("ssti.gguf", 7),
        ("many_kv.gguf", 211),
    ] {
        let b = fixture(&format!("models/{name}"));
        let l = gguf_layout(&b);
        c.cuts(name, &b, step, gguf_cut(l.kv_end));
        // Counts and lengths of u64::MAX, one field at a time.
        let max = u64::MAX.to_le_bytes();
        c.add(
            format!("huge-{name}-tensor-count"),
            &patched(&b, 8, &max),
            Expect::ErrorOrNotModel,
        );
        c.add(
            format!("huge-{name}-kv-count"),
            &patched(&b, 16, &max),
            Expect::ErrorOrNotModel,
        );
        for (i, &at) in l.string_lens.iter().enumerate().take(40) {
            c.add(
                format!("huge-{name}-strlen-{i:03}"),
                &patched(&b, at, &max),
                Expect::ErrorOrNotModel,
            );
        }
        for (i, &at) in l.array_lens.iter().enumerate().take(40) {
            c.add(
                format!("huge-{name}-arraylen-{i:03}"),
                &patched(&b, at, &max),
                Expect::ErrorOrNotModel,
            );
        }
        assert!(
            !l.array_lens.is_empty() || name != "many_kv.gguf",
            "{name} has no array"
        );
        // Wrong magic and versions.
        c.add(
            format!("magic-{name}-ggux"),
            &patched(&b, 0, b"GGUX"),
            Expect::Is("not_a_model"),
        );
        c.add(
            format!("magic-{name}-v0"),
            &patched(&b, 4, &0u32.to_le_bytes()),
            Expect::ErrorOrNotModel,
        );
        c.add(
            format!("magic-{name}-vmax"),
            &patched(&b, 4, &u32::MAX.to_le_bytes()),
            Expect::ErrorOrNotModel,
        );
        c.add(
            format!("magic-{name}-big-endian"),
            &patched(&b, 4, &3u32.to_be_bytes()),
            Expect::ErrorOrNotModel,
        );
    }

    // --- safetensors: cuts, header lengths at and around the cap
    let st = fixture("models/tiny.safetensors");
    let header_end = 8 + u64_at(&st, 0) as usize;
    c.cuts("tiny.safetensors", &st, 7, |cut| {
        if cut < header_end {
            Expect::ErrorOrNotModel
        } else {
            Expect::AnyVerdict
        }
    });
    let cap = 100u64 * 1024 * 1024;
    for (tag, n) in [
        ("cap", cap),
        ("cap-plus-1", cap + 1),
        ("max", u64::MAX),
        ("past-end", st.len() as u64 - 7),
    ] {
        c.add(
            format!("huge-st-headerlen-{tag}"),
            &patched(&st, 0, &n.to_le_bytes()),
            Expect::ErrorOrNotModel,
        );
    }
    let mut not_json = st.clone();
    not_json[header_end - 1] = b'!';
    c.add(
        "magic-st-bad-json".into(),
        &not_json,
        Expect::ErrorOrNotModel,
    );

    // --- pickles: every cut, huge lengths, floods, unknown protocol
    for name in [
        "plain_p4.pkl",
        "plain_p2.pkl",
        "os_system_p4.pkl",
        "torch_data_p2.pkl",
        "nested_bytes_p4.pkl",
        "bytearray_p5.pkl",
    ] {
        let b = fixture(&format!("pickle/{name}"));
        c.cuts(name, &b, 3, |cut| {
            if cut < 2 {
                Expect::ErrorOrNotModel
            } else {
                Expect::NotClean
            }
        });
    }
    let p = |body: &[u8]| [b"\x80\x04".as_slice(), body].concat();
    let max8 = u64::MAX.to_le_bytes();
    let max4 = u32::MAX.to_le_bytes();
    for (tag, body) in [
        ("binunicode8", [b"\x8d".as_slice(), &max8, b"abc"].concat()),
        ("binbytes8", [b"\x8e".as_slice(), &max8, b"abc"].concat()),
        ("bytearray8", [b"\x96".as_slice(), &max8, b"abc"].concat()),
        ("frame", [b"\x95".as_slice(), &max8, b"N."].concat()),
        ("binunicode", [b"X".as_slice(), &max4, b"abc"].concat()),
        ("binbytes", [b"B".as_slice(), &max4, b"abc"].concat()),
        ("long-binget", [b"N".as_slice(), b"j", &max4, b"."].concat()),
        ("long1", [b"\x8b".as_slice(), &max4, b"."].concat()),
    ] {
        c.add(
            format!("huge-pickle-{tag}.pkl"),
            &p(&body),
            Expect::Is("unparseable"),
        );
    }
    // LONG_BINPUT of a huge key is legal (a memo key, not a length): the walk
    // must finish honestly.
    c.add(
        "huge-pickle-long-binput.pkl".into(),
        &p(&[b"N".as_slice(), b"r", &max4, b"0."].concat()),
        Expect::Is("clean"),
    );
    // A million and more memo entries and marks: bounds of the walker.
    let mut memo = p(b"N");
    for k in 0u32..1_100_000 {
        memo.push(b'r');
        memo.extend_from_slice(&k.to_le_bytes());
    }
    memo.push(b'.');
    c.add("flood-memo.pkl".into(), &memo, Expect::Is("unparseable"));
    let mut marks = p(b"");
    marks.extend(std::iter::repeat_n(b'(', 1_100_000));
    marks.push(b'.');
    c.add("flood-marks.pkl".into(), &marks, Expect::Is("unparseable"));
    // No magic of a known protocol, but named as a pickle: walked, and refused.
    c.add(
        "magic-pickle-proto6.pkl".into(),
        b"\x80\x06N.",
        Expect::Is("unparseable"),
    );

    // --- npy: cuts of the object arrays, hostile header lengths and versions
    for name in ["evil.npy", "objects.npy"] {
        let b = fixture(&format!("npy/{name}"));
        c.cuts(name, &b, 3, |_| Expect::NotClean);
    }
    let npy = fixture("npy/evil.npy");
    c.add(
        "huge-npy-v1-headerlen".into(),
        &patched(&npy, 8, &u16::MAX.to_le_bytes()),
        Expect::ErrorOrNotModel,
    );
    let mut v2 = patched(&npy, 6, &[2, 0]);
    v2.splice(8..10, u32::MAX.to_le_bytes());
    c.add("huge-npy-v2-headerlen".into(), &v2, Expect::ErrorOrNotModel);
    c.add(
        "magic-npy-v9".into(),
        &patched(&npy, 6, &[9]),
        Expect::ErrorOrNotModel,
    );

    // --- torch zips (written by Python's zipfile): cuts and hostile archives
    let real_zips = c.dir.join("../zips-real");
    std::fs::create_dir_all(&real_zips).expect("mkdir");
    make_zips(&real_zips, &c.dir);
    let tz = std::fs::read(real_zips.join("torch_state.pt")).expect("torch_state.pt");
    c.cuts("torch_state.pt", &tz, 5, |_| Expect::NotClean);
    for (name, e) in [
        ("zip_traversal.pt", Expect::Is("dangerous")),
        ("zip_absolute.pt", Expect::Is("dangerous")),
        // Every copy of a repeated name is read: the one holding os.system too.
        ("zip_duplicate.pt", Expect::Is("dangerous")),
        // Flagged as a bomb (a finding) and not read: never clean.
        ("zip_bomb.pt", Expect::Is("suspicious")),
        // The reader stops at the declared size, as the loader does: cut short.
        ("zip_lying_size.pt", Expect::NotClean),
        ("nested_40.pkl", Expect::Is("unparseable")),
        ("zip_nested_40.pt", Expect::Is("unparseable")),
    ] {
        c.expect.insert(name.into(), e);
    }
    c
}

impl Expect {
    fn accepts(self, verdict: &str, file: &Value) -> bool {
        let explained = file["analysis"]["error"].is_string()
            || !file["reasons"].as_array().is_none_or(|r| r.is_empty());
        match self {
            Expect::ErrorOrNotModel => {
                (verdict == "error" && explained) || verdict == "not_a_model"
            }
            Expect::NotClean => verdict != "clean" && (verdict == "not_a_model" || explained),
            Expect::AnyVerdict => true,
            Expect::Is(v) => verdict == v && (v == "clean" || v == "not_a_model" || explained),
        }
    }
}

#[test]
fn hostile_corpus_gets_clear_errors_or_honest_verdicts_within_memory_bound() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let t0 = std::time::Instant::now();
    let corpus = build_corpus(tmp.path().join("hostile"));
    let t1 = std::time::Instant::now();
    let s = scan_measured(&corpus.dir);
    eprintln!(
        "corpus built in {:?}, scanned in {:?}",
        t1 - t0,
        t1.elapsed()
    );
    assert!(!s.stderr.contains("panicked"), "{}", s.stderr);
    assert_eq!(s.code, 1, "hostile files must fail the scan: {}", s.stderr);
    let got = verdicts_by_name(&s.doc);
    assert_eq!(
        got.len(),
        corpus.expect.len(),
        "every generated file is reported once"
    );
    let mut wrong = Vec::new();
    for (name, e) in &corpus.expect {
        let (verdict, file) = got
            .get(name)
            .unwrap_or_else(|| panic!("{name} not reported"));
        if !e.accepts(verdict, file) {
            wrong.push(format!(
                "{name}: expected {e:?}, got {verdict}: {}",
                file["reasons"]
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} dishonest answers:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    eprintln!(
        "{} hostile files scanned, peak RSS {} KiB",
        got.len(),
        s.max_rss_kib
    );
    assert!(
        s.max_rss_kib < RSS_BOUND_KIB,
        "peak RSS {} KiB over the {} KiB bound",
        s.max_rss_kib,
        RSS_BOUND_KIB
    );
}

#[test]
fn real_fixtures_get_their_expected_verdicts() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let real = tmp.path().join("real");
    std::fs::create_dir_all(&real).expect("mkdir");
    let expected: &[(&str, &str)] = &[
        ("models/provenance.gguf", "clean"),
        ("models/many_kv.gguf", "clean"),
        ("models/ssti.gguf", "suspicious"),
        ("models/tiny.safetensors", "clean"),
        ("pickle/plain_p2.pkl", "clean"),
        ("pickle/plain_p4.pkl", "clean"),
        ("pickle/plain_p5.pkl", "clean"),
        ("pickle/ordereddict_p4.pkl", "clean"),
        ("pickle/torch_data_p2.pkl", "clean"),
        ("pickle/nested_latin1_p2.pkl", "clean"),
        ("pickle/os_system_p2.pkl", "dangerous"),
        ("pickle/os_system_p4.pkl", "dangerous"),
        ("pickle/eval_p4.pkl", "dangerous"),
        ("pickle/getattr_chain_p4.pkl", "dangerous"),
        ("pickle/memo_stack_global_p4.pkl", "dangerous"),
        ("pickle/computed_stack_global_p4.pkl", "dangerous"),
        ("pickle/nested_bytes_p4.pkl", "dangerous"),
        ("pickle/truncated_p4.pkl", "unparseable"),
        // Protocol 0 has no magic: walked because the name says pickle.
        ("pickle/os_system_p0.pkl", "dangerous"),
        ("pickle/inst_p0.pkl", "dangerous"),
        ("pickle/plain_p0.pkl", "clean"),
        ("npy/plain.npy", "clean"),
        ("npy/objects.npy", "clean"),
        ("npy/evil.npy", "dangerous"),
    ];
    for (rel, _) in expected {
        let name = Path::new(rel).file_name().expect("name");
        std::fs::write(real.join(name), fixture(rel)).expect("copy");
    }
    std::fs::write(real.join("README.md"), "not a model\n").expect("write");
    let hostile = tmp.path().join("unused");
    std::fs::create_dir_all(&hostile).expect("mkdir");
    make_zips(&real, &hostile);

    let s = scan_measured(&real);
    assert_eq!(s.code, 1, "dangerous files fail the scan");
    let got = verdicts_by_name(&s.doc);
    let mut want: BTreeMap<String, &str> = expected
        .iter()
        .map(|(rel, v)| (rel.rsplit('/').next().expect("name").to_string(), *v))
        .collect();
    want.insert("torch_state.pt".into(), "clean");
    want.insert("torch_evil.pt".into(), "dangerous");
    want.insert("README.md".into(), "not_a_model");
    let got_verdicts: BTreeMap<String, &str> = got
        .iter()
        .map(|(k, (v, _))| (k.clone(), v.as_str()))
        .collect();
    assert_eq!(got_verdicts, want);
    let evil = &got["torch_evil.pt"].1;
    assert!(
        evil["reasons"][0]
            .as_str()
            .is_some_and(|r| r.contains("system")),
        "{evil}"
    );
    assert_eq!(
        got["provenance.gguf"].1["analysis"]["metadata"]["name"],
        "Tiny Test Llama"
    );

    // Only the clean ones: exit 0, and the text form lists them.
    for (name, (v, _)) in &got {
        if v != "clean" && v != "not_a_model" {
            std::fs::remove_file(real.join(name)).expect("rm");
        }
    }
    let s = scan_measured(&real);
    assert_eq!(s.code, 0, "{}", s.stderr);
    let text = Command::new(bin())
        .arg("scan")
        .arg(&real)
        .output()
        .expect("run");
    assert_eq!(text.status.code(), Some(0));
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("clean        GGUF v3"), "{text}");
    assert!(
        text.lines()
            .last()
            .is_some_and(|l| l.ends_with("1 not a model")),
        "{text}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = Command::new(bin()).arg("scan").output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(bin())
        .args(["scan", "--format", "yaml", "."])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}
