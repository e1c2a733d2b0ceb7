//! Pickles that carry hundreds of MiB as data — numpy arrays and bytes
//! written by the real pickler, a torch-style zip member — are walked in
//! bounded memory: a large argument that holds no pickle is read past after
//! its head, and the walk goes on after it, so a gadget placed behind the data
//! is still found. An argument that holds a pickle is walked whole.

mod support;

const WRITE: &str = r#"
import os, pickle, sys, zipfile
import numpy as np

out = sys.argv[1]
class Gadget:
    def __init__(self, fn, *args):
        self.fn, self.args = fn, args
    def __reduce__(self):
        return (self.fn, self.args)

big = bytes(range(1, 256)) * (96 * 4112)          # ~96 MiB, no pickle in it
evil = Gadget(os.system, "id")
def dump(name, obj, proto):
    with open(os.path.join(out, name), "wb") as f:
        pickle.dump(obj, f, protocol=proto)
dump("bytes_then_gadget.pkl", [big, evil], 4)
dump("array_then_gadget.pkl", {"w": np.arange(12 << 20, dtype=np.float64), "x": evil}, 5)
dump("array_benign.pkl", {"w": np.arange(12 << 20, dtype=np.float64)}, 4)
# The gadget's own pickle stored as a large bytes value: walked whole.
dump("pickle_in_large_bytes.pkl", {"blob": pickle.dumps(evil, protocol=4) + bytes(2 << 20)}, 4)
with zipfile.ZipFile(os.path.join(out, "member.pt"), "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
    z.writestr("archive/data.pkl", pickle.dumps([big, evil], protocol=2))
    z.writestr("archive/version", b"3\n")
print("ok")
"#;

/// Peak RSS allowed to one scan of all of them (each holds ~96 MiB of data).
const RSS_BOUND_KIB: i64 = 64 * 1024;

#[test]
fn large_data_is_read_past_in_bounded_memory_and_what_follows_is_judged() {
    let dir = tempfile::tempdir().expect("tempdir");
    support::python_ok(
        &support::python(),
        &["-c".as_ref(), WRITE.as_ref(), dir.path().as_os_str()],
    );
    let run = support::scan_measured(dir.path());
    let by_name = support::verdicts_by_name(&run.doc);
    let verdict = |name: &str| {
        by_name
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} not scanned: {}", run.doc))
    };
    for name in [
        "bytes_then_gadget.pkl",
        "array_then_gadget.pkl",
        "pickle_in_large_bytes.pkl",
        "member.pt",
    ] {
        let (v, f) = verdict(name);
        assert_eq!(v, "dangerous", "{name}: {f:#}");
        assert!(
            f.to_string().contains("posix.system") || f.to_string().contains("os.system"),
            "{name}: {f:#}"
        );
    }
    let (v, f) = verdict("array_benign.pkl");
    assert_eq!(v, "clean", "{f:#}");
    assert!(f.to_string().contains("read past"), "{f:#}");
    assert!(
        run.max_rss_kib < RSS_BOUND_KIB,
        "peak RSS {} KiB for ~480 MiB of pickled data",
        run.max_rss_kib
    );
}
