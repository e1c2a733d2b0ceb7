//! ONNX, Keras 3 `.keras` and legacy Keras `.h5` files written by the real
//! writers (onnx, h5py; tests/fixtures/models/make_graphs.py): what the
//! readers extract must match what the writer was told, hostile variants are
//! flagged, and no prefix of any of them panics.

use std::path::{Path, PathBuf};

use aiposture::formats::analyse::analyse;
use aiposture::formats::hdf5::{parse_hdf5_prefix, read_hdf5};
use aiposture::formats::keras::{parse_keras_zip, read_keras};
use aiposture::formats::magic::sniff_file;
use aiposture::formats::onnx::{parse_onnx_bytes, read_onnx};
use aiposture::knowledge::pickle_rules::PickleRules;
use aiposture::model::ModelFormat;
use aiposture::model::onnx::ExternalResolution;
use aiposture::rules::models::custom_ops;
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/models")
        .join(name)
}

fn expect(name: &str) -> Value {
    let p = fixture(&format!("{name}.expect.json"));
    serde_json::from_str(&std::fs::read_to_string(&p).expect("expect.json")).expect("json")
}

/// `[["a", "b"], ...]` from an expect file.
fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|p| {
            let s = |i: usize| match &p[i] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (s(0), s(1))
        })
        .collect()
}

fn state(r: &ExternalResolution) -> &'static str {
    match r {
        ExternalResolution::Inside => "inside",
        ExternalResolution::Missing => "missing",
        ExternalResolution::Absolute => "absolute",
        ExternalResolution::ParentTraversal => "parent_traversal",
        ExternalResolution::OutsideDir { .. } => "outside_dir",
        ExternalResolution::Unknown { .. } => "unknown",
    }
}

const ONNX: [&str; 4] = [
    "benign.onnx",
    "custom_op.onnx",
    "traversal.onnx",
    "onnx_external/external.onnx",
];

#[test]
fn onnx_facts_match_the_writer() {
    for name in ONNX {
        let e = expect(name);
        let (m, r) = read_onnx(&fixture(name)).expect(name);
        assert!(r.complete, "{name}");
        assert_eq!(r.ir_version, e["ir_version"].as_u64(), "{name}");
        let custom: Vec<(String, String)> = custom_ops(&r)
            .iter()
            .map(|o| (o.domain.clone(), o.op_type.clone()))
            .collect();
        assert_eq!(custom, pairs(&e["custom_ops"]), "{name}");
        let ext: Vec<(String, String, &str)> = r
            .external_data
            .iter()
            .map(|x| (x.tensor.clone(), x.location.clone(), state(&x.resolution)))
            .collect();
        let want: Vec<(String, String, &str)> = e["external"]
            .as_array()
            .expect("external")
            .iter()
            .map(|x| {
                (
                    x[0].as_str().expect("s").to_string(),
                    x[1].as_str().expect("s").to_string(),
                    x[2].as_str().expect("s"),
                )
            })
            .collect();
        assert_eq!(ext, want, "{name}");
        if let Some(n) = e["node_count"].as_u64() {
            assert_eq!(r.node_count, n, "{name}");
        }
        assert!(m.notes.is_empty(), "{name}: {:?}", m.notes);
    }
    let e = expect("benign.onnx");
    let (m, r) = read_onnx(&fixture("benign.onnx")).expect("benign");
    let ops: Vec<(String, String)> = r
        .ops
        .iter()
        .map(|o| (o.domain.clone(), o.op_type.clone()))
        .collect();
    assert_eq!(ops, pairs(&e["ops"]));
    let opsets: Vec<(String, String)> = r
        .opsets
        .iter()
        .map(|o| (o.domain.clone(), o.version.to_string()))
        .collect();
    assert_eq!(opsets, pairs(&e["opsets"]));
    let functions: Vec<(String, String)> = r
        .functions
        .iter()
        .map(|o| (o.domain.clone(), o.op_type.clone()))
        .collect();
    assert_eq!(functions, pairs(&e["functions"]));
    assert_eq!(
        m.general.get("onnx.producer").map(String::as_str),
        e["producer"].as_str()
    );
    assert_eq!(m.version.as_deref(), e["model_version"].as_str());
    assert_eq!(m.organization.as_deref(), e["domain"].as_str());
    assert_eq!(
        m.general.get("onnx.metadata.license").map(String::as_str),
        Some("mit")
    );
}

#[test]
fn onnx_provenance_loses_credentials() {
    let rules = PickleRules::embedded().expect("rules");
    let a = analyse(&fixture("benign.onnx"), &ModelFormat::Onnx, &rules);
    assert_eq!(a.error, None);
    let all = format!("{:?}", a.metadata);
    for secret in ["s3cr3t", "hf_abcdef123"] {
        assert!(!all.contains(secret), "{secret} kept: {all}");
    }
    assert!(all.contains("huggingface.co/example/tiny"), "{all}");
    assert!(all.contains("A tiny benign model"), "{all}");
    assert!(a.onnx.is_some());
}

#[test]
fn sniffing_by_content() {
    let cases: [(&str, Option<ModelFormat>); 10] = [
        ("benign.onnx", Some(ModelFormat::Onnx)),
        ("custom_op.onnx", Some(ModelFormat::Onnx)),
        ("traversal.onnx", Some(ModelFormat::Onnx)),
        ("onnx_external/external.onnx", Some(ModelFormat::Onnx)),
        ("benign.keras", Some(ModelFormat::Keras)),
        ("lambda.keras", Some(ModelFormat::Keras)),
        ("lambda.h5", Some(ModelFormat::Hdf5)),
        ("lambda_inline.h5", Some(ModelFormat::Hdf5)),
        ("weights_only.h5", Some(ModelFormat::Hdf5)),
        // External data is raw floats: not a model by itself.
        ("onnx_external/external.onnx.data", None),
    ];
    for (name, want) in cases {
        assert_eq!(sniff_file(&fixture(name)).expect(name), want, "{name}");
    }
    // Other formats are never taken for ONNX, Keras or HDF5.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut others = vec![
        std::env::current_exe().expect("exe"), // ELF
        root.join("models/tiny.safetensors"),
        root.join("models/provenance.gguf"),
        root.join("models/benign.onnx.expect.json"),
        fixture("make_graphs.py"),
    ];
    for dir in ["pickle", "npy"] {
        for f in std::fs::read_dir(root.join(dir)).expect("dir").flatten() {
            others.push(f.path());
        }
    }
    for p in &others {
        let got = sniff_file(p).expect("read");
        assert!(
            !matches!(
                got,
                Some(ModelFormat::Onnx | ModelFormat::Keras | ModelFormat::Hdf5)
            ),
            "{} sniffed as {got:?}",
            p.display()
        );
    }
}

#[test]
fn zip_with_a_keras_first_member_but_no_keras_layout_is_not_keras() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("x.zip");
    let mut z = zip::ZipWriter::new(std::fs::File::create(&p).expect("create"));
    z.start_file("config.json", zip::write::SimpleFileOptions::default())
        .expect("start");
    std::io::Write::write_all(&mut z, b"{}").expect("write");
    z.start_file("readme.txt", zip::write::SimpleFileOptions::default())
        .expect("start");
    z.finish().expect("finish");
    assert_eq!(sniff_file(&p).expect("sniff"), None);
}

fn lambdas(r: &aiposture::model::keras::KerasReport) -> Vec<(String, String)> {
    r.lambdas
        .iter()
        .map(|l| (l.layer.clone(), l.bytecode.to_string()))
        .collect()
}

#[test]
fn keras_archives_match_the_writer() {
    for name in ["benign.keras", "lambda.keras", "custom.keras"] {
        let e = expect(name);
        let r = read_keras(&fixture(name)).expect(name);
        assert_eq!(r.keras_version.as_deref(), e["keras_version"].as_str());
        assert_eq!(r.layers_checked, e["layers_checked"].as_bool().expect("b"));
        assert_eq!(r.config_source.as_deref(), Some("config.json"));
        assert_eq!(lambdas(&r), pairs(&e["lambdas"]), "{name}");
        let custom: Vec<Vec<String>> = r
            .custom_objects
            .iter()
            .map(|c| {
                vec![
                    c.class_name.clone(),
                    c.module.clone().unwrap_or_default(),
                    c.registered_name.clone().unwrap_or_default(),
                ]
            })
            .collect();
        let want: Vec<Vec<String>> =
            serde_json::from_value(e["custom_objects"].clone()).expect("v");
        assert_eq!(custom, want, "{name}");
        assert!(r.object_count > 5, "{name}: {}", r.object_count);
        assert!(r.notes.is_empty(), "{name}: {:?}", r.notes);
    }
}

#[test]
fn legacy_h5_model_config_is_found_and_walked() {
    for name in [
        "benign.h5",
        "lambda.h5",
        "lambda_inline.h5",
        "decoy.h5",
        "weights_only.h5",
    ] {
        let e = expect(name);
        let r = read_hdf5(&fixture(name)).expect(name);
        assert_eq!(
            r.layers_checked,
            e["layers_checked"].as_bool().expect("b"),
            "{name}"
        );
        assert_eq!(lambdas(&r), pairs(&e["lambdas"]), "{name}");
        if r.layers_checked {
            assert_eq!(r.keras_version.as_deref(), e["keras_version"].as_str());
            assert_eq!(r.backend.as_deref(), e["backend"].as_str());
            assert!(
                r.config_source
                    .as_deref()
                    .is_some_and(|s| s.starts_with("model_config"))
            );
        } else {
            assert_eq!(r.config_source, None);
            assert!(
                r.notes.iter().any(|n| n.contains("layers not checked")),
                "{:?}",
                r.notes
            );
        }
    }
}

/// Offsets to cut a file at: every byte of small files, a spread of others.
fn cuts(len: usize) -> Vec<usize> {
    if len <= 1024 {
        (0..len).collect()
    } else {
        (0..len).step_by(len / 97 + 1).chain([len - 1]).collect()
    }
}

#[test]
fn truncated_files_give_errors_not_panics() {
    for name in ONNX {
        let b = std::fs::read(fixture(name)).expect(name);
        let mut errors = 0;
        for n in cuts(b.len()) {
            match parse_onnx_bytes(&b[..n]) {
                Err(e) => {
                    errors += 1;
                    assert!(
                        e.contains("offset") || e.contains("no ModelProto"),
                        "{name}[..{n}]: {e}"
                    );
                }
                Ok((_, r)) => assert!(r.complete),
            }
        }
        // A cut inside the graph is always an error.
        let half = parse_onnx_bytes(&b[..b.len() / 2]);
        assert!(half.is_err(), "{name}: {half:?}");
        assert!(errors > b.len() / 2, "{name}: {errors} errors");
    }
    for name in ["benign.keras", "lambda.keras", "custom.keras"] {
        let b = std::fs::read(fixture(name)).expect(name);
        for n in cuts(b.len()) {
            let e = parse_keras_zip(std::io::Cursor::new(&b[..n])).expect_err(name);
            assert!(!e.is_empty());
        }
    }
    for name in ["benign.h5", "lambda.h5", "lambda_inline.h5"] {
        let b = std::fs::read(fixture(name)).expect(name);
        let full = parse_hdf5_prefix(&b).expect(name);
        for n in cuts(b.len()) {
            match parse_hdf5_prefix(&b[..n]) {
                Err(e) => assert!(e.contains("signature"), "{e}"),
                // A cut architecture is never reported as checked.
                Ok(r) => assert!(!r.layers_checked || r == full, "{name}[..{n}]"),
            }
        }
    }
}

/// Deterministic byte flips over every fixture: each reader returns, never panics.
#[test]
fn mutated_files_never_panic() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let files = [
        "benign.onnx",
        "custom_op.onnx",
        "traversal.onnx",
        "benign.keras",
        "lambda.keras",
        "lambda.h5",
        "lambda_inline.h5",
    ];
    for name in files {
        let orig = std::fs::read(fixture(name)).expect(name);
        for _ in 0..800 {
            let mut b = orig.clone();
            for _ in 0..(next() % 4 + 1) {
                let i = (next() as usize) % b.len();
                b[i] = match next() % 3 {
                    0 => b[i] ^ (1 << (next() % 8)),
                    1 => 0xff,
                    _ => 0,
                };
            }
            let _ = parse_onnx_bytes(&b);
            let _ = parse_keras_zip(std::io::Cursor::new(&b));
            let _ = parse_hdf5_prefix(&b);
        }
    }
}

/// The Models pane's state word for each graph file, from the real analysis
/// and the derived facts `rules` adds to it.
#[test]
fn onnx_and_keras_states_in_the_model_list() {
    let rules = PickleRules::embedded().expect("rules");
    for (name, format, want) in [
        ("benign.onnx", ModelFormat::Onnx, "ok"),
        ("traversal.onnx", ModelFormat::Onnx, "escape"),
        ("custom_op.onnx", ModelFormat::Onnx, "custom ops"),
        ("lambda.keras", ModelFormat::Keras, "CODE"),
        ("custom.keras", ModelFormat::Keras, "unknown"),
        ("benign.h5", ModelFormat::Hdf5, "ok"),
        ("weights_only.h5", ModelFormat::Hdf5, "?"),
    ] {
        let mut a = analyse(&fixture(name), &format, &rules);
        aiposture::rules::derive::model_analysis(&mut a);
        assert_eq!(
            aiposture::views::tui::panes::models::state(&a, None, false).1,
            want,
            "{name}"
        );
    }
}
