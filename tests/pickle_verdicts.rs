//! Graded pickle verdicts on files the real writers make: scikit-learn, pandas,
//! numpy and joblib checkpoints are `benign_library` (a fact, never an alarm),
//! exploit gadgets written by the stdlib pickler — command helpers that return
//! output, log handlers that write files, raw file objects, attribute walks
//! through a module's `os` — are `dangerous`, and a checkpoint that records a
//! scikit-learn release outside the one its class list holds for is
//! `suspicious`; a gadget pickle stored as base64 or hex text inside a plain
//! pickle is `dangerous` too. Nothing here is ever unpickled: the writers only dump.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const WRITE: &str = r#"
import io, logging, os, pickle, struct, subprocess, sys, uuid, warnings
warnings.filterwarnings("ignore")
import joblib, numpy as np, pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KDTree, KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

out = sys.argv[1]
X = np.random.RandomState(0).rand(40, 4)
y = (X[:, 0] > 0.5).astype(int)
benign = {
    "pipeline": make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y),
    "forest": RandomForestClassifier(n_estimators=2, random_state=0).fit(X, y),
    "boosting": GradientBoostingClassifier(n_estimators=2).fit(X, y),
    "hist_boosting": HistGradientBoostingClassifier(max_iter=2).fit(X, y),
    "neighbours": KNeighborsClassifier().fit(X, y),
    "kdtree": KDTree(X),
    "tfidf": TfidfVectorizer().fit(["apple banana cherry", "banana cherry date"]),
    "columns": ColumnTransformer([("n", StandardScaler(), [0, 1]), ("c", OneHotEncoder(), [2])]).fit(pd.DataFrame(X)),
    "frame": pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}),
    "generator": np.random.default_rng(0),
}
os.makedirs(f"{out}/benign")
for name, obj in benign.items():
    for proto in (2, 4, 5):
        with open(f"{out}/benign/{name}_p{proto}.pkl", "wb") as f:
            pickle.dump(obj, f, protocol=proto)
    joblib.dump(obj, f"{out}/benign/{name}.joblib")
joblib.dump(benign["forest"], f"{out}/benign/forest.joblib.gz", compress=("gzip", 3))

# The release an estimator records, rewritten to one before the list's range.
raw = open(f"{out}/benign/pipeline_p4.pkl", "rb").read()
import sklearn
v = sklearn.__version__.encode()
old = b"0.1." + b"9" * (len(v) - 4)
assert raw.count(v) >= 1 and len(old) == len(v)
os.makedirs(f"{out}/old")
open(f"{out}/old/pipeline_old_release.pkl", "wb").write(raw.replace(v, old))

class Gadget:
    def __init__(self, fn, *args):
        self.fn, self.args = fn, args
    def __reduce__(self):
        return (self.fn, self.args)

os.makedirs(f"{out}/evil")
for name, fn, args in [
    ("getoutput", subprocess.getoutput, ("id",)),
    ("file_handler", logging.FileHandler, ("/tmp/aiposture-never-written",)),
    ("uuid_popen", uuid._get_command_stdout, ("id",)),
    ("fileio", io.FileIO, ("/tmp/aiposture-never-written", "w")),
]:
    with open(f"{out}/evil/{name}.pkl", "wb") as f:
        pickle.dump(Gadget(fn, *args), f, protocol=4)

# A dotted name walking through a module's `os` attribute (pathlib imports
# os): STACK_GLOBAL "pathlib" "os.system", as fickling's GHSA-5j3x-jp52-966f.
def su(s):
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b
walk = b"\x80\x04" + su("pathlib") + su("os.system") + b"\x93" + su("id") + b"\x85R."
open(f"{out}/evil/pathlib_os_system.pkl", "wb").write(walk)
# The same walk hidden behind a benign library class's module.
walk = b"\x80\x04" + su("sklearn.base") + su("os.system") + b"\x93" + su("id") + b"\x85R."
open(f"{out}/evil/sklearn_os_system.pkl", "wb").write(walk)

# Payloads stored as data: a gadget pickle kept as base64 (bytes and URL-safe text,
# wrapped like MIME) or hex inside a plain dict, one line of code from being loaded.
import base64
payload = pickle.dumps(Gadget(os.system, "id"), protocol=4)
for name, blob, proto in [
    ("base64_bytes", base64.b64encode(payload), 4),
    ("base64_urlsafe_text", base64.urlsafe_b64encode(payload).decode().rstrip("="), 2),
    ("base64_mime_text", base64.encodebytes(payload).decode(), 4),
    ("hex_text", payload.hex(), 4),
]:
    with open(f"{out}/evil/encoded_{name}.pkl", "wb") as f:
        pickle.dump({"note": "config", "blob": blob}, f, protocol=proto)
# The same wrapping of a plain-data pickle is data.
os.makedirs(f"{out}/data")
with open(f"{out}/data/encoded_plain.pkl", "wb") as f:
    pickle.dump({"blob": base64.b64encode(pickle.dumps({"a": 1}, protocol=4))}, f, protocol=4)
print("ok")
"#;

fn verdicts(dir: &Path) -> BTreeMap<String, (String, serde_json::Value)> {
    support::scan_verdicts(&[dir]).1
}

#[test]
fn library_checkpoints_are_facts_and_gadgets_are_dangerous() {
    let dir = tempfile::tempdir().expect("tempdir");
    let made = Command::new(support::python())
        .arg("-c")
        .arg(WRITE)
        .arg(dir.path())
        .output()
        .expect("python");
    assert!(
        made.status.success(),
        "writer failed: {}",
        String::from_utf8_lossy(&made.stderr)
    );

    let benign = verdicts(&dir.path().join("benign"));
    assert_eq!(benign.len(), 10 * 4 + 1, "{:?}", benign.keys());
    for (file, (verdict, f)) in &benign {
        assert_eq!(verdict, "benign_library", "{file}: {f:#}");
    }
    // The fact names the libraries; the estimator's recorded release is kept.
    let (_, pipeline) = &benign["pipeline_p4.pkl"];
    let text = pipeline.to_string();
    assert!(text.contains("\"library\":\"scikit-learn\""), "{text}");
    assert!(text.contains("_sklearn_version"), "{text}");
    let frame = benign["frame_p5.pkl"].1.to_string();
    assert!(frame.contains("\"library\":\"pandas\""), "{frame}");

    let old = verdicts(&dir.path().join("old"));
    let (verdict, f) = &old["pipeline_old_release.pkl"];
    assert_eq!(verdict, "suspicious", "{f:#}");
    assert!(f.to_string().contains("outside the releases"), "{f:#}");

    let evil = verdicts(&dir.path().join("evil"));
    assert_eq!(evil.len(), 10, "{:?}", evil.keys());
    for (file, (verdict, f)) in &evil {
        assert_eq!(verdict, "dangerous", "{file}: {f:#}");
    }
    let (verdict, f) = &verdicts(&dir.path().join("data"))["encoded_plain.pkl"];
    assert_eq!(verdict, "clean", "{f:#}");
    // Never run: the gadgets' targets were not created.
    assert!(!Path::new("/tmp/aiposture-never-written").exists());
}
