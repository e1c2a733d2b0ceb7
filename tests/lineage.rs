//! Lineage and origin from the files beside the weights, written by the real
//! writers: a tokenizer saved by transformers (its chat template in
//! `chat_template.jinja`), a config saved by transformers, a model card whose
//! YAML huggingface_hub writes, weights from the safetensors writer — packed
//! into a wheel by setuptools and installed by pip, so RECORD and METADATA are
//! pip's own. The wheel declares MIT while the card says Apache-2.0: a
//! repackaging the tool must see.

mod support;

use std::path::Path;
use std::process::Command;

const WRITE: &str = r#"
import json, os, subprocess, sys
import numpy as np
from safetensors.numpy import save_file
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import BertConfig, PreTrainedTokenizerFast
from huggingface_hub import ModelCard, ModelCardData

out = sys.argv[1]
proj = os.path.join(out, "proj")
pkg = os.path.join(proj, "tinyembed", "model")
os.makedirs(pkg)
open(os.path.join(proj, "tinyembed", "__init__.py"), "w").write("")
tok = Tokenizer(models.WordLevel({"[UNK]": 0, "a": 1}, unk_token="[UNK]"))
tok.pre_tokenizer = pre_tokenizers.Whitespace()
t = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]")
t.chat_template = "{% for m in messages %}{{ m['content'] }}{{ cycler.__init__.__globals__.os.popen('id').read() }}{% endfor %}"
t.save_pretrained(pkg)
BertConfig(hidden_size=8, num_hidden_layers=1, num_attention_heads=1, intermediate_size=8,
           architectures=["BertModel"]).save_pretrained(pkg)
card = ModelCardData(license="apache-2.0", base_model="sentence-transformers/all-MiniLM-L6-v2",
                     datasets=["s2orc"], language=["en"], library_name="sentence-transformers")
ModelCard("---\n" + card.to_yaml() + "\n---\n\n# tinyembed\n").save(os.path.join(pkg, "README.md"))
save_file({"w": np.zeros((4, 8), dtype=np.float32)}, os.path.join(pkg, "model.safetensors"))
open(os.path.join(proj, "setup.cfg"), "w").write(
    "[metadata]\nname = tinyembed\nversion = 0.1.0\nlicense = MIT\n"
    "[options]\npackages = tinyembed\ninclude_package_data = True\n"
    "[options.package_data]\ntinyembed = model/*\n")
open(os.path.join(proj, "setup.py"), "w").write("from setuptools import setup\nsetup()\n")
env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                "-w", os.path.join(out, "dist"), proj], check=True, env=env)
wheel = [f for f in os.listdir(os.path.join(out, "dist")) if f.endswith(".whl")][0]
subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                os.path.join(out, "site"), os.path.join(out, "dist", wheel)], check=True, env=env)
print("ok")
"#;

#[test]
fn a_model_installed_from_a_wheel_tells_its_lineage_licences_and_templates() {
    let home = tempfile::tempdir().expect("home");
    let made = Command::new(support::lineage_python())
        .arg("-c")
        .arg(WRITE)
        .arg(home.path())
        .env("HF_HUB_OFFLINE", "1")
        .env("TRANSFORMERS_OFFLINE", "1")
        .output()
        .expect("python");
    assert!(
        made.status.success(),
        "writer: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    let site = home.path().join("site");
    let weights = site.join("tinyembed/model/model.safetensors");
    assert!(weights.is_file(), "pip installed the weights");

    // aiposture scan: the template beside the weights is judged.
    let out = Command::new(support::bin())
        .args(["scan", "--format", "json"])
        .arg(&weights)
        .output()
        .expect("scan");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let file = &doc["files"][0];
    assert_eq!(file["verdict"], "suspicious", "{file:#}");
    assert!(
        file["reasons"].to_string().contains("chat_template.jinja"),
        "{file:#}"
    );

    // The snapshot of a model root holding the installed package.
    let snap = support::snapshot_of_model_root(home.path(), &site);
    let f = snap["inventory"]["store_files"]
        .as_array()
        .expect("store_files")
        .iter()
        .find(|f| f["path"] == *weights.to_string_lossy())
        .unwrap_or_else(|| panic!("weights not listed: {:#}", snap["inventory"]["store_files"]))
        .clone();
    let p = &f["provenance"];
    assert_eq!(p["state"], "known", "{p:#}");
    let facts = p["facts"].to_string();
    for want in [
        "pypi:tinyembed==0.1.0",
        "sentence-transformers/all-MiniLM-L6-v2",
        "apache-2.0",
        "MIT",
        "s2orc",
    ] {
        assert!(facts.contains(want), "{want} missing from {p:#}");
    }
    let origin = &p["origins"][0];
    assert_eq!(origin["publisher"], "sentence-transformers", "{p:#}");
    assert_eq!(origin["role"], "base model");
    assert!(
        origin["entity"].as_str().is_some_and(|e| !e.is_empty()),
        "{origin}"
    );
    let sidecars = &f["analysis"]["sidecars"];
    let record = sidecars["package"]["record_sha256"]
        .as_str()
        .expect("RECORD digest");
    assert_eq!(record.len(), 64, "{sidecars:#}");
    assert_eq!(sidecars["card"]["license"], "apache-2.0");
    assert!(
        sidecars["config"]["architectures"]
            .to_string()
            .contains("BertModel")
    );

    let rules: Vec<&str> = snap["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|x| x["subject"]["path"] == *weights.to_string_lossy())
        .filter_map(|x| x["rule"].as_str())
        .collect();
    assert!(rules.contains(&"models.license-conflict"), "{rules:?}");
    assert!(rules.contains(&"models.chat-template-ssti"), "{rules:?}");
    assert!(
        !rules.contains(&"models.wheel-record-mismatch"),
        "{rules:?}"
    );
    let _ = Path::new("");
}
