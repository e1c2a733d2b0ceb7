//! Containers judged member by member, by content, as their loaders read them
//! (tests/support/make_archives.py writes them with Python's zipfile and
//! tarfile): a pickle under any name in a generic zip or tar, archives nested
//! to a bound, zip-slip names and links, repeated names (every copy read),
//! members flagged encrypted (read as loaders that ignore the flag read
//! them), torch storages never walked as opcodes, and plain archives left
//! alone.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn scan(dir: &Path) -> BTreeMap<String, (String, String)> {
    support::scan_verdicts(&[dir])
        .1
        .into_iter()
        .map(|(name, (v, f))| (name, (v, f.to_string())))
        .collect()
}

/// 7z archives written by 7-Zip itself (`7zz`, Debian's 7zip): solid LZMA2,
/// a zip inside, AES-encrypted content, AES-encrypted names.
fn seven_zips(out: &Path, pickles: &Path) {
    let stage = tempfile::tempdir().expect("stage");
    let put = |dir: &str, from: &Path| {
        let d = stage.path().join(dir).join("weights");
        std::fs::create_dir_all(&d).expect("mkdir");
        std::fs::copy(from, d.join("blob")).expect("copy");
    };
    put("evil", &pickles.join("os_system_p4.pkl"));
    put("benign", &pickles.join("plain_p4.pkl"));
    std::fs::copy(
        out.join("generic_evil.zip"),
        stage.path().join("generic_evil.zip"),
    )
    .expect("copy");
    let seven = |archive: &str, args: &[&str], what: &str, cwd: &Path| {
        let st = Command::new("7zz")
            .args(["a", "-t7z", "-bso0", "-bsp0"])
            .args(args)
            .arg(out.join(archive))
            .arg(what)
            .current_dir(cwd)
            .status()
            .expect("7zz (Debian package 7zip)");
        assert!(st.success(), "7zz {archive}");
    };
    seven(
        "evil.7z",
        &["-ms=on"],
        "weights",
        &stage.path().join("evil"),
    );
    seven("benign.7z", &[], "weights", &stage.path().join("benign"));
    seven("zip_in.7z", &[], "generic_evil.zip", stage.path());
    seven(
        "encrypted.7z",
        &["-psecret"],
        "weights",
        &stage.path().join("evil"),
    );
    seven(
        "encrypted_names.7z",
        &["-psecret", "-mhe=on"],
        "weights",
        &stage.path().join("evil"),
    );
}

/// Writes the archive corpus into `dir`.
fn make_corpus(dir: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    support::python_ok(
        &support::python(),
        &[
            root.join("tests/support/make_archives.py").as_os_str(),
            root.join("tests/fixtures/pickle").as_os_str(),
            dir.as_os_str(),
        ],
    );
    seven_zips(dir, &root.join("tests/fixtures/pickle"));
}

/// Discovery is scan: every file `aiposture scan` judges as a model, the
/// snapshot lists from a configured model root with the same verdict, and it
/// lists nothing scan calls no model. The corpus: the archives above, every
/// pickle and model fixture, and a cut protocol-0 pickle named `.pkl` (no
/// magic, so only its name says pickle).
#[test]
fn snapshot_and_scan_give_every_file_the_same_verdict() {
    let home = tempfile::tempdir().expect("home");
    let corpus = home.path().join("srv-models");
    std::fs::create_dir_all(&corpus).expect("mkdir");
    make_corpus(&corpus);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for fixtures in ["tests/fixtures/pickle", "tests/fixtures/models"] {
        for e in std::fs::read_dir(root.join(fixtures))
            .expect("fixtures")
            .flatten()
        {
            if e.file_type().is_ok_and(|t| t.is_file()) {
                std::fs::copy(e.path(), corpus.join(e.file_name())).expect("copy");
            }
        }
    }
    std::fs::write(corpus.join("cut_p0.pkl"), b"cos\nsystem\n(S'id'\n").expect("write");
    let snap = support::snapshot_of_model_root(home.path(), &corpus);
    let listed: BTreeMap<String, String> = snap["inventory"]["store_files"]
        .as_array()
        .expect("store_files")
        .iter()
        .filter(|f| {
            f["path"]
                .as_str()
                .is_some_and(|p| p.starts_with(&*corpus.to_string_lossy()))
        })
        .map(|f| {
            let name = f["path"]
                .as_str()
                .unwrap_or_default()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string();
            (
                name,
                f["content_verdict"].as_str().unwrap_or("none").to_string(),
            )
        })
        .collect();
    let scanned: BTreeMap<String, String> = scan(&corpus)
        .into_iter()
        .filter(|(_, (v, _))| v != "not_a_model")
        .map(|(name, (v, _))| (name, v))
        .collect();
    assert_eq!(
        scanned.get("cut_p0.pkl").map(String::as_str),
        Some("dangerous")
    );
    assert!(scanned.len() > 40, "{scanned:?}");
    assert_eq!(listed, scanned, "snapshot (left) and scan (right) disagree");
}

#[test]
fn containers_are_judged_by_what_their_members_hold() {
    let dir = tempfile::tempdir().expect("tempdir");
    make_corpus(dir.path());
    let got = scan(dir.path());
    let expect = [
        ("generic_evil.zip", "dangerous", "weights/blob"),
        ("generic_benign.zip", "clean", "weights/blob"),
        ("generic_text_pickle.zip", "dangerous", "posix"),
        ("slip.zip", "dangerous", "outside the target directory"),
        ("duplicate.zip", "dangerous", "model.pkl ×2"),
        (
            "nested.zip",
            "dangerous",
            "outer.zip!middle.zip!deep/model.bin",
        ),
        ("too_deep.zip", "error", "nested deeper than"),
        ("encrypted_flag.pt", "dangerous", "flagged as encrypted"),
        ("torch_storage_like_pickle.pt", "clean", "archive/data.pkl"),
        ("model_evil.tar", "dangerous", "model/weights"),
        ("model_benign.tar", "clean", "model/weights"),
        ("link_out.tar", "dangerous", "/etc/passwd"),
        ("zip_in_tar.tar", "dangerous", "bundle.zip!w"),
        ("evil.7z", "dangerous", "weights/blob"),
        ("benign.7z", "clean", "weights/blob"),
        ("zip_in.7z", "dangerous", "generic_evil.zip!weights/blob"),
        ("encrypted.7z", "error", "not checked"),
        ("encrypted_names.7z", "error", "not a readable 7z"),
        ("docs.zip", "not_a_model", ""),
        ("docs.tar", "not_a_model", ""),
    ];
    let mut wrong = Vec::new();
    for (file, verdict, evidence) in expect {
        match got.get(file) {
            Some((v, doc)) if v == verdict && doc.contains(evidence) => {}
            other => wrong.push(format!(
                "{file}: want {verdict} with {evidence:?}, got {other:?}"
            )),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}
