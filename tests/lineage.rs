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

/// An Ollama store as `ollama pull` lays it out: the GGUF (written by the
/// gguf package, its header claiming Apache-2.0) as the model layer, beside
/// the manifest's config blob and its licence layers (Llama 3.2's licence and
/// its acceptable-use policy, as Ollama's llama3.2 ships them).
const WRITE_OLLAMA: &str = r#"
import hashlib, json, os, sys
import numpy as np, gguf

root = os.path.join(sys.argv[1], ".ollama", "models")
os.makedirs(os.path.join(root, "blobs"))
tmp = os.path.join(sys.argv[1], "m.gguf")
w = gguf.GGUFWriter(tmp, "llama")
w.add_name("tiny")
w.add_license("apache-2.0")
w.add_tensor("w", np.zeros((4, 8), dtype=np.float32))
w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()

def blob(data, media):
    d = hashlib.sha256(data).hexdigest()
    open(os.path.join(root, "blobs", "sha256-" + d), "wb").write(data)
    return {"mediaType": media, "digest": "sha256:" + d, "size": len(data)}

layers = [
    blob(open(tmp, "rb").read(), "application/vnd.ollama.image.model"),
    blob(b"LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\nLlama 3.2 Version Release Date: September 25, 2024\n", "application/vnd.ollama.image.license"),
    blob(b"**Llama 3.2** **Acceptable Use Policy**\n\nMeta is committed to promoting safe and fair use\n", "application/vnd.ollama.image.license"),
]
config = blob(json.dumps({"model_format": "gguf", "model_family": "llama", "model_families": ["llama"],
                          "model_type": "3.2B", "file_type": "Q4_K_M", "architecture": "amd64", "os": "linux"}).encode(),
              "application/vnd.docker.container.image.v1+json")
m = os.path.join(root, "manifests", "registry.ollama.ai", "library", "tiny")
os.makedirs(m)
json.dump({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
           "config": config, "layers": layers}, open(os.path.join(m, "latest"), "w"))
print(layers[0]["digest"][7:])
"#;

#[test]
fn an_ollama_models_licence_and_config_layers_are_its_lineage() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = support::python_ok(
        &support::python(),
        &[
            "-c".as_ref(),
            WRITE_OLLAMA.as_ref(),
            home.path().as_os_str(),
        ],
    );
    let digest = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let empty = home.path().join("no-models");
    std::fs::create_dir(&empty).expect("mkdir");
    let snap = support::snapshot_of_model_root(home.path(), &empty);
    let f = snap["inventory"]["store_files"]
        .as_array()
        .expect("store_files")
        .iter()
        .find(|f| f["path"].as_str().is_some_and(|p| p.ends_with(&digest)))
        .unwrap_or_else(|| {
            panic!(
                "model layer not listed: {:#}",
                snap["inventory"]["store_files"]
            )
        })
        .clone();
    let ollama = &f["analysis"]["sidecars"]["ollama"];
    assert_eq!(ollama["family"], "llama", "{ollama:#}");
    assert_eq!(ollama["parameter_size"], "3.2B");
    assert_eq!(ollama["file_type"], "Q4_K_M");
    let licences = ollama["licenses"].as_array().expect("licence layers");
    assert_eq!(licences.len(), 2, "{ollama:#}");
    assert_eq!(licences[0]["id"], "LicenseRef-Llama-3.2");
    // The acceptable-use policy is not a licence: shown by its heading, not guessed.
    assert!(licences[1]["id"].is_null(), "{ollama:#}");
    assert!(
        licences[1]["heading"]
            .as_str()
            .unwrap_or("")
            .contains("Acceptable Use Policy")
    );

    let facts = f["provenance"]["facts"].to_string();
    assert!(
        facts.contains("LicenseRef-Llama-3.2") && facts.contains("Ollama licence layer"),
        "{facts}"
    );
    let rules: Vec<&str> = snap["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|x| x["subject"]["path"] == f["path"])
        .filter_map(|x| x["rule"].as_str())
        .collect();
    assert!(
        rules.contains(&"models.license-conflict"),
        "the header's Apache-2.0 against the licence layer's Llama 3.2: {rules:?}"
    );
}
