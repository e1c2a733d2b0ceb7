use super::text::*;
use super::*;
use crate::model::pickle::{GlobalClass, PickleVerdict};
use std::collections::HashSet;

fn rules() -> PickleRules {
    crate::test_support::pickle_rules()
}

fn fixture(name: &str) -> PickleReport {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pickle")
        .join(name);
    scan_file(&path, &rules()).expect("fixture readable")
}

fn dangerous(r: &PickleReport) -> Vec<(String, String, u64)> {
    r.globals
        .iter()
        .filter(|g| g.class == GlobalClass::Dangerous)
        .map(|g| (g.module.clone(), g.name.clone(), g.offset))
        .collect()
}

fn d(module: &str, name: &str, offset: u64) -> (String, String, u64) {
    (module.into(), name.into(), offset)
}

#[test]
fn plain_data_is_safe_in_every_protocol() {
    for (f, proto) in [
        ("plain_p0.pkl", None),
        ("plain_p2.pkl", Some(2)),
        ("plain_p4.pkl", Some(4)),
        ("plain_p5.pkl", Some(5)),
        ("containers_p2.pkl", Some(2)),
        ("bytearray_p5.pkl", Some(5)),
    ] {
        let r = fixture(f);
        assert_eq!(
            crate::rules::pickle::verdict(&r),
            PickleVerdict::Safe,
            "{f}: {r:?}"
        );
        assert_eq!(r.protocol, proto, "{f}");
        assert!(r.opcodes > 5, "{f}");
    }
}

#[test]
fn ordered_dict_is_safe() {
    for f in [
        "ordereddict_p0.pkl",
        "ordereddict_p2.pkl",
        "ordereddict_p4.pkl",
    ] {
        let r = fixture(f);
        assert_eq!(
            crate::rules::pickle::verdict(&r),
            PickleVerdict::Safe,
            "{f}: {r:?}"
        );
        assert!(
            r.globals
                .iter()
                .any(|g| g.module == "collections" && g.name == "OrderedDict"),
            "{f}"
        );
    }
}

#[test]
fn os_system_reduce_is_dangerous_in_every_protocol() {
    for (f, at) in [
        ("os_system_p0.pkl", 0),
        ("os_system_p2.pkl", 2),
        ("os_system_p4.pkl", 28),
        ("os_system_p5.pkl", 28),
    ] {
        let r = fixture(f);
        assert_eq!(
            crate::rules::pickle::verdict(&r),
            PickleVerdict::Dangerous,
            "{f}"
        );
        assert_eq!(dangerous(&r), vec![d("posix", "system", at)], "{f}");
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("REDUCE at offset") && n.contains("calls posix.system")),
            "{f}: {:?}",
            r.notes
        );
    }
}

#[test]
fn eval_is_dangerous_under_both_builtin_names() {
    let r = fixture("eval_p2.pkl");
    assert_eq!(crate::rules::pickle::verdict(&r), PickleVerdict::Dangerous);
    assert_eq!(dangerous(&r), vec![d("__builtin__", "eval", 2)]);
    let r = fixture("eval_p4.pkl");
    assert_eq!(dangerous(&r), vec![d("builtins", "eval", 29)]);
}

#[test]
fn getattr_chain_reports_every_link() {
    let r = fixture("getattr_chain_p4.pkl");
    assert_eq!(crate::rules::pickle::verdict(&r), PickleVerdict::Dangerous);
    let names: Vec<String> = dangerous(&r)
        .into_iter()
        .map(|(m, n, _)| format!("{m}.{n}"))
        .collect();
    assert_eq!(names, ["builtins.getattr", "importlib.import_module"]);
}

#[test]
fn memoised_stack_global_operands_are_resolved() {
    let r = fixture("memo_stack_global_p4.pkl");
    assert_eq!(crate::rules::pickle::verdict(&r), PickleVerdict::Dangerous);
    assert_eq!(dangerous(&r), vec![d("os", "system", 29)]);
}

#[test]
fn computed_stack_global_operands_are_dangerous() {
    let r = fixture("computed_stack_global_p4.pkl");
    assert_eq!(crate::rules::pickle::verdict(&r), PickleVerdict::Dangerous);
    assert_eq!(r.globals[0].module, "builtins");
    assert_eq!(r.globals[0].class, GlobalClass::Allowed);
    assert_eq!(dangerous(&r), vec![d(COMPUTED, "system", 32)]);
    assert!(r.notes.iter().any(|n| n.contains("not string constants")));
}

#[test]
fn protocol_zero_inst_is_dangerous() {
    let r = fixture("inst_p0.pkl");
    assert_eq!(crate::rules::pickle::verdict(&r), PickleVerdict::Dangerous);
    assert_eq!(r.protocol, None);
    assert_eq!(dangerous(&r), vec![d("os", "system", 12)]);
}

#[test]
fn nested_pickles_are_followed() {
    let r = fixture("nested_bytes_p4.pkl");
    assert_eq!(
        crate::rules::pickle::verdict(&r),
        PickleVerdict::Dangerous,
        "{r:?}"
    );
    // SHORT_BINBYTES at 21, argument at 23, inner STACK_GLOBAL at 28.
    assert_eq!(dangerous(&r), vec![d("posix", "system", 51)]);
    assert!(r.notes.iter().any(|n| n.contains("nested pickle in bytes")));
    let r = fixture("nested_latin1_p2.pkl");
    assert_eq!(
        crate::rules::pickle::verdict(&r),
        PickleVerdict::Safe,
        "{r:?}"
    );
    assert!(r.notes.iter().any(|n| n.contains("latin-1")));
}

#[test]
fn pickles_nested_deeper_than_followed_are_not_called_safe() {
    // os.system in BINBYTES in a pickle, MAX_NESTING + 1 levels: the
    // innermost is never read, so the walk cannot vouch for it.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pickle/os_system_p4.pkl");
    let mut blob = std::fs::read(path).expect("fixture");
    for _ in 0..=MAX_NESTING {
        let mut outer = b"\x80\x04B".to_vec();
        outer.extend_from_slice(&(blob.len() as u32).to_le_bytes());
        outer.extend_from_slice(&blob);
        outer.push(b'.');
        blob = outer;
    }
    let r = scan(&blob, &rules());
    assert_eq!(
        crate::rules::pickle::verdict(&r),
        PickleVerdict::Unparseable,
        "{r:?}"
    );
    assert!(r.notes[0].contains("deeper than"), "{r:?}");
}

#[test]
fn truncated_input_is_unparseable_with_offset() {
    let r = fixture("truncated_p4.pkl");
    assert_eq!(
        crate::rules::pickle::verdict(&r),
        PickleVerdict::Unparseable
    );
    assert!(r.notes[0].contains("truncated"), "{:?}", r.notes);
    assert!(r.notes[0].contains("offset"), "{:?}", r.notes);
    assert_eq!(
        crate::rules::pickle::verdict(&scan(b"", &rules())),
        PickleVerdict::Unparseable
    );
}

#[test]
fn huge_length_claim_is_unparseable_without_allocation() {
    let r = fixture("huge_length_p4.pkl");
    assert_eq!(
        crate::rules::pickle::verdict(&r),
        PickleVerdict::Unparseable
    );
    assert!(
        r.notes[0].contains("BINUNICODE8 at offset 2 needs 4611686018427387904 bytes"),
        "{:?}",
        r.notes
    );
}

#[test]
fn torch_like_checkpoint_is_safe() {
    let r = fixture("torch_data_p2.pkl");
    assert_eq!(
        crate::rules::pickle::verdict(&r),
        PickleVerdict::Safe,
        "{r:?}"
    );
    let names: HashSet<String> = r
        .globals
        .iter()
        .map(|g| format!("{}.{}", g.module, g.name))
        .collect();
    for want in [
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor_v2",
        "torch.FloatStorage",
    ] {
        assert!(names.contains(want), "{want} in {names:?}");
    }
    assert!(
        r.notes.iter().any(|n| n.contains("BINPERSID ×2")),
        "{:?}",
        r.notes
    );
}

#[test]
fn dangerous_before_a_break_still_wins() {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pickle/os_system_p2.pkl"),
    )
    .unwrap();
    let r = scan(&bytes[..bytes.len() - 3], &rules());
    assert_eq!(crate::rules::pickle::verdict(&r), PickleVerdict::Dangerous);
    assert!(r.notes[0].contains("truncated"));
}

#[test]
fn unknown_global_is_suspicious_and_names_are_sanitised() {
    let mut p = b"\x80\x02cmy\x1bmod\nThing\n)\x81.".to_vec();
    let r = scan(&p, &rules());
    assert_eq!(crate::rules::pickle::verdict(&r), PickleVerdict::Suspicious);
    assert_eq!(r.globals[0].module, "my\\u{1b}mod");
    p = b"\x80\x04\x8c\x0bcollections\x8c\x20OrderedDict.__init__.__globals__\x93.".to_vec();
    let r = scan(&p, &rules());
    assert_eq!(
        crate::rules::pickle::verdict(&r),
        PickleVerdict::Dangerous,
        "{r:?}"
    );
}

#[test]
fn bounds_and_malformed_streams_never_panic() {
    let rules = rules();
    // Deep marks hit the stack bound.
    let mut deep = b"\x80\x04".to_vec();
    deep.extend(std::iter::repeat_n(b'(', MAX_STACK + 1));
    deep.push(b'.');
    let r = scan(&deep, &rules);
    assert_eq!(
        crate::rules::pickle::verdict(&r),
        PickleVerdict::Unparseable
    );
    assert!(r.notes[0].contains("stack deeper"));
    // Underflow, missing memo, unknown opcode, bad protocol.
    for bad in [
        &b"\x80\x04R."[..],
        b"\x80\x04h\x07.",
        b"\x80\x04\xff.",
        b"\x80\x09N.",
        b"\x80\x04N\x93.",
        b"Vabc\\u12\n.",
    ] {
        assert_eq!(
            crate::rules::pickle::verdict(&scan(bad, &rules)),
            PickleVerdict::Unparseable,
            "{bad:?}"
        );
    }
    // Every prefix of every fixture is handled.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pickle");
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "pkl") {
            let bytes = std::fs::read(&path).unwrap();
            for n in 0..bytes.len() {
                scan(&bytes[..n], &rules);
            }
        }
    }
}

#[test]
fn text_escapes_decode_like_python() {
    assert_eq!(escape_decode(br"o\x73\n\163").unwrap(), b"os\ns");
    assert_eq!(raw_unicode_escape(br"sys\u0074em").unwrap(), "system");
    assert_eq!(raw_unicode_escape(br"a\\u0041").unwrap(), "a\\\\u0041");
    // Escaped constants still resolve STACK_GLOBAL.
    let p = b"S'o\\x73'\nS'sys\\x74em'\n\x93.";
    assert_eq!(dangerous(&scan(p, &rules())), vec![d("os", "system", 22)]);
}

/// `body` (protocol 4) behind a FRAME that announces `n` bytes.
fn framed(n: u64, body: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, 4, 0x95];
    p.extend_from_slice(&n.to_le_bytes());
    p.extend_from_slice(body);
    p
}

#[test]
fn frames_the_two_cpython_unpicklers_read_differently_are_never_safe() {
    // SHORT_BINUNICODE "abc", MEMOIZE, STOP: 7 bytes. CPython's C unpickler
    // loads every frame length up to 7; its pure-Python one refuses 3 and 4
    // (the frame ends inside the argument) and runs what there is for 8.
    let body = b"\x8c\x03abc\x94.";
    for n in [0, 1, 2, 5, 6, 7] {
        let r = scan(&framed(n, body), &rules());
        assert!(r.anomalies.is_empty(), "frame {n}: {:?}", r.anomalies);
        assert_eq!(
            crate::rules::pickle::verdict(&r),
            PickleVerdict::Safe,
            "frame {n}"
        );
    }
    for n in [3, 4, 8, 100] {
        let r = scan(&framed(n, body), &rules());
        assert_eq!(r.anomalies.len(), 1, "frame {n}: {r:?}");
        assert_eq!(
            crate::rules::pickle::verdict(&r),
            PickleVerdict::Unparseable,
            "frame {n}"
        );
    }
    // A frame opened inside another.
    let mut inner = vec![0x95];
    inner.extend_from_slice(&(body.len() as u64).to_le_bytes());
    inner.extend_from_slice(body);
    let outer = [inner, b"xyz".to_vec()].concat();
    let r = scan(&framed(outer.len() as u64, &outer), &rules());
    assert!(r.anomalies[0].contains("begins before"), "{r:?}");
}

#[test]
fn a_frame_claiming_too_much_still_reports_what_it_imports() {
    // The pure-Python unpickler runs the opcodes of a short frame: os.system
    // behind a frame that announces 1 MiB is still found.
    let body = b"\x8c\x02os\x8c\x06system\x93\x8c\x02id\x85R.";
    let r = scan(&framed(1 << 20, body), &rules());
    assert_eq!(dangerous(&r).len(), 1, "{r:?}");
    assert_eq!(crate::rules::pickle::verdict(&r), PickleVerdict::Dangerous);
}
