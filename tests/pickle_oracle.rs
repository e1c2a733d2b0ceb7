//! The pickle walker against CPython itself. tests/support/pickle_oracle.py
//! makes tricky pickles with the real `pickle` and `pickletools` (every
//! protocol, memo and frame forms, hand-assembled opcode edge cases), cuts,
//! flips and extends them, adds the fuzz seeds (and the fuzz corpus when one
//! is cached), and reports what `pickletools.genops` reads and which globals
//! the C unpickler asks for when it loads them in a sandbox (find_class
//! replaced: nothing imported, nothing called).
//!
//! Two rules, on every input:
//! - where the walker and genops disagree on the opcodes or on where the
//!   stream stops, the walker's verdict is never safe (nor benign-library);
//! - every global CPython's loader asks for, the walker lists.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use aiposture::formats::pickle::{StreamOptions, scan_stream};
use aiposture::knowledge::pickle_rules::PickleRules;
use aiposture::model::pickle::{PickleVerdict, clean_text};
use aiposture::rules::pickle::verdict;

#[derive(serde::Deserialize)]
struct Cpython {
    ops: Vec<(u64, u8)>,
    genops_error: Option<String>,
    loaded: bool,
    imports: Vec<String>,
}

fn corpus_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/pickle")];
    // The fuzz corpus scripts/fuzz.sh keeps between runs, when this machine has one.
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(Path::new(&home).join(".cache/aiposture-fuzz/corpus/pickle"));
    }
    dirs
}

#[test]
fn walker_and_cpython_agree_or_the_walker_never_says_safe() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(support::python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/support/pickle_oracle.py"
        ))
        .arg(dir.path())
        .args(corpus_dirs())
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "pickle_oracle.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let oracle: BTreeMap<String, Cpython> =
        serde_json::from_slice(&out.stdout).expect("oracle json");
    assert!(oracle.len() > 2000, "{} cases", oracle.len());
    let rules = PickleRules::embedded().expect("rules");
    let opts = StreamOptions {
        max_pickles: Some(1),
        trace: true,
        ..StreamOptions::default()
    };
    let mut wrong = Vec::new();
    let (mut agreed, mut loaded) = (0, 0);
    for (name, cp) in &oracle {
        let bytes = std::fs::read(dir.path().join("cases").join(name)).expect("case");
        let scan = scan_stream(&bytes, &rules, &opts);
        let v = verdict(&scan.report);
        let walker_failed = scan.report.incomplete.is_some();
        let agree = scan.trace == cp.ops && walker_failed == cp.genops_error.is_some();
        if agree {
            agreed += 1;
        } else if matches!(v, PickleVerdict::Safe | PickleVerdict::BenignLibrary) {
            let first = scan
                .trace
                .iter()
                .zip(&cp.ops)
                .position(|(a, b)| a != b)
                .unwrap_or(scan.trace.len().min(cp.ops.len()));
            wrong.push(format!(
                "{name}: walker {v:?} but disagrees with genops at op {first} (walker {:?}, genops {:?}; genops error {:?}, walker stop {:?})",
                scan.trace.get(first),
                cp.ops.get(first),
                cp.genops_error,
                scan.report.incomplete
            ));
        }
        if cp.loaded {
            loaded += 1;
        }
        let listed: Vec<&str> = scan
            .report
            .globals
            .iter()
            .map(|g| g.name.as_str())
            .collect();
        for import in &cp.imports {
            if !listed.contains(&clean_text(import).as_str()) {
                wrong.push(format!(
                    "{name}: CPython imports {import}, the walker does not list it ({listed:?})"
                ));
            }
        }
    }
    eprintln!(
        "{} cases: {agreed} read alike, {loaded} loaded by CPython",
        oracle.len()
    );
    assert!(
        wrong.is_empty(),
        "{} problems:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
