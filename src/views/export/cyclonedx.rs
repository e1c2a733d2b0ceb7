//! The snapshot as a CycloneDX 1.6 BOM (JSON): model files as
//! `machine-learning-model` components with their sha256 and provenance, what
//! each server runs and the host's packages as `library` components with purls,
//! the servers as `application` components depending on both, and the advisory
//! matches as `vulnerabilities` pointing at the components they affect.
//!
//! bom-refs are derived from what identifies a thing across runs (path,
//! product and command line, ecosystem/name/version/path), never from a pid.
//! Custom facts are `properties` named `aiposture:*`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::model::components::{Component, Ecosystem};
use crate::model::provenance::{Provenance, ProvenanceState};
use crate::model::scan::FileVerdict;
use crate::model::{
    FileHash, LoadedModel, ModelAnalysis, ModelFormat, Server, ServerAdvisoryMatch, Snapshot,
    StoreFile,
};

pub const SPEC_VERSION: &str = "1.6";
/// Cargo.toml's `repository`, when the package names one (no URL is made up).
const TOOL_URL: &str = env!("CARGO_PKG_REPOSITORY");

/// The BOM as pretty JSON. `serial` is the `urn:uuid:…` serial number: every
/// generated BOM should have its own (see [`new_serial`]); tests pass a fixed one.
pub fn to_json(snapshot: &Snapshot, serial: &str) -> Result<String, Error> {
    let mut s = serde_json::to_string_pretty(&bom(snapshot, serial))?;
    s.push('\n');
    Ok(s)
}

/// A random (version 4) serial number, `urn:uuid:…`, from the kernel's CSPRNG.
pub fn new_serial() -> Result<String, Error> {
    let mut b = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .map_err(|source| Error::Read {
            path: "/dev/urandom".into(),
            source,
        })?;
    Ok(serial_from(b))
}

/// `urn:uuid:` of 16 random bytes, with the version (4) and variant bits set.
pub fn serial_from(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// First 16 hex digits of the sha256 of `parts` joined by NUL: a stable,
/// collision-resistant tail for bom-refs.
fn digest(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex(&h.finalize()[..8])
}

/// Percent-encode every byte outside `A-Za-z0-9`, `-._~` and `keep`.
pub(crate) fn percent_encode(s: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A unit enum as the snapshot JSON spells it (`dpkg_status`, `not_configured`).
fn serde_name<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

fn prop(name: &str, value: impl Into<String>) -> Value {
    json!({"name": format!("aiposture:{name}"), "value": value.into()})
}

fn bom(s: &Snapshot, serial: &str) -> Value {
    let mut b = Builder::default();
    let host_ref = format!("host:{}", digest(&[&s.inventory.host.hostname]));
    let mut host_deps: BTreeSet<String> = BTreeSet::new();

    // Store files first: a loaded model at the same path is the same component.
    let stores: BTreeMap<&str, &StoreFile> = s
        .inventory
        .store_files
        .iter()
        .filter(|f| f.format.is_some())
        .map(|f| (f.path.as_str(), f))
        .collect();

    for srv in &s.inventory.servers {
        let sref = b.server(srv);
        let mut deps: BTreeSet<String> = BTreeSet::new();
        for c in &srv.components {
            deps.insert(b.library(c, &s.inventory.host.os));
        }
        for m in &srv.models {
            deps.insert(b.loaded_model(m, stores.get(m.path.as_str()).copied()));
        }
        host_deps.insert(sref.clone());
        b.deps.insert(sref, deps);
    }
    for f in stores.values() {
        host_deps.insert(b.store_model(f));
    }
    for c in &s.inventory.system_software.components {
        host_deps.insert(b.library(c, &s.inventory.host.os));
    }
    let vulnerabilities = b.vulnerabilities(&s.patch.matches, &s.inventory.host.os);
    b.deps.insert(host_ref.clone(), host_deps);

    let host = &s.inventory.host;
    let mut host_props = vec![prop("collected_at", &host.collected_at)];
    if let Some(os) = &host.os {
        host_props.push(prop("os", os));
    }
    if let Some(k) = &host.kernel {
        host_props.push(prop("kernel", k));
    }
    let dependencies: Vec<Value> = b
        .deps
        .iter()
        .map(|(r, d)| json!({"ref": r, "dependsOn": d}))
        .collect();
    let advisory_props = {
        let d = &s.patch.data;
        let mut p = vec![
            prop("advisories:origin", &d.origin),
            prop("advisories:records", d.records.to_string()),
        ];
        if let Some(m) = &d.newest_modified {
            p.push(prop("advisories:newest_modified", m));
        }
        if let Some(a) = d.age_days {
            p.push(prop("advisories:age_days", a.to_string()));
        }
        p
    };
    json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": serial,
        "version": 1,
        "metadata": {
            "timestamp": host.collected_at,
            "tools": {"components": [tool(s)]},
            "component": {
                "type": "device",
                "bom-ref": host_ref,
                "name": host.hostname,
                "description": "host whose AI stack this BOM lists (as aiposture saw it)",
                "properties": host_props,
            },
            "properties": advisory_props,
        },
        "components": b.components.into_values().collect::<Vec<_>>(),
        "dependencies": dependencies,
        "vulnerabilities": vulnerabilities,
    })
}

fn tool(s: &Snapshot) -> Value {
    let mut t = json!({"type": "application", "name": s.tool.name, "version": s.tool.version});
    if !TOOL_URL.is_empty() {
        t["externalReferences"] = json!([{"type": "vcs", "url": TOOL_URL}]);
    }
    t
}

#[derive(Default)]
struct Builder {
    /// By bom-ref: a component reached twice (two servers, one venv) is listed once.
    components: BTreeMap<String, Value>,
    deps: BTreeMap<String, BTreeSet<String>>,
}

impl Builder {
    fn server(&mut self, srv: &Server) -> String {
        let base = format!(
            "server:{}:{}",
            srv.product_id,
            digest(&[
                srv.exe.as_deref().unwrap_or(""),
                &srv.cmdline.join("\u{1f}")
            ])
        );
        // Two identical command lines (same binary started twice): the pid tells them apart.
        let r = if self.components.contains_key(&base) {
            format!("{base}:pid{}", srv.pid)
        } else {
            base
        };
        let mut props = vec![prop("pid", srv.pid.to_string())];
        if let Some(e) = &srv.exe {
            props.push(prop("exe", e));
        }
        if let Some(u) = &srv.user {
            props.push(prop("user", u));
        }
        props.push(prop("auth", serde_name(&srv.auth.state)));
        let mut c = json!({
            "type": "application",
            "bom-ref": r,
            "name": srv.product,
            "properties": props,
        });
        // The server's own version: Go's main module, or the llama.cpp build.
        if let Some(v) = srv.components.iter().find(|c| {
            c.detail.as_deref() == Some("main module") || c.ecosystem == Ecosystem::LlamaCpp
        }) {
            c["version"] = json!(v.version);
        }
        self.components.insert(r.clone(), c);
        r
    }

    fn library(&mut self, c: &Component, os: &Option<String>) -> String {
        let r = library_ref(c);
        if self.components.contains_key(&r) {
            return r;
        }
        let mut v = json!({
            "type": "library",
            "bom-ref": r,
            "name": c.name,
            "version": c.version,
        });
        if let Some(p) = purl(c, os.as_deref()) {
            v["purl"] = json!(p);
        }
        let mut props = vec![
            prop("ecosystem", ecosystem_label(c.ecosystem)),
            prop("path", &c.path),
            prop("version_source", serde_name(&c.how)),
        ];
        if let Some(s) = &c.source_package {
            props.push(prop("source_package", s));
        }
        if let Some(s) = &c.revision {
            props.push(prop("revision", s));
        }
        if let Some(s) = &c.replaced_by {
            props.push(prop("replaced_by", s));
        }
        if let Some(s) = &c.detail {
            props.push(prop("detail", s));
        }
        if c.shadowed {
            props.push(prop("shadowed", "true"));
        }
        if let Some(why) = &c.version_note {
            props.push(prop("version_note", why));
        }
        v["properties"] = json!(props);
        self.components.insert(r.clone(), v);
        r
    }

    fn loaded_model(&mut self, m: &LoadedModel, store: Option<&StoreFile>) -> String {
        let r = model_ref(&m.path);
        if self.components.contains_key(&r) {
            return r;
        }
        let mut props = Vec::new();
        if m.deleted {
            props.push(prop("deleted", "true"));
        }
        if let Some(f) = store {
            props.push(prop("store", f.store.label()));
            props.push(prop("integrity", integrity_label(&f.integrity)));
        }
        props.push(prop("decision", m.facts.decision.label()));
        let c = model_component(ModelFile {
            r: &r,
            path: &m.path,
            format: Some(&m.format),
            size: m.size_bytes,
            hash: &m.facts.hash,
            analysis: &m.facts.analysis,
            verdict: m.facts.content_verdict,
            provenance: &m.facts.provenance,
            extra: props,
        });
        self.components.insert(r.clone(), c);
        r
    }

    fn store_model(&mut self, f: &StoreFile) -> String {
        let r = model_ref(&f.path);
        if self.components.contains_key(&r) {
            return r;
        }
        let props = vec![
            prop("store", f.store.label()),
            prop("reference", &f.reference),
            prop("integrity", integrity_label(&f.integrity)),
            prop("decision", f.facts.decision.label()),
        ];
        let c = model_component(ModelFile {
            r: &r,
            path: &f.path,
            format: f.format.as_ref(),
            size: f.size_bytes,
            hash: &f.facts.hash,
            analysis: &f.facts.analysis,
            verdict: f.facts.content_verdict,
            provenance: &f.facts.provenance,
            extra: props,
        });
        self.components.insert(r.clone(), c);
        r
    }

    /// One vulnerability per id set, affecting every component it matched.
    fn vulnerabilities(&mut self, matches: &[ServerAdvisoryMatch], os: &Option<String>) -> Value {
        let mut by_id: BTreeMap<String, Value> = BTreeMap::new();
        let mut order: Vec<String> = Vec::new();
        for m in matches {
            let f = &m.found;
            let Some(id) = f.ids.first().or(f.records.first()) else {
                continue;
            };
            // A match names a component the inventory has; listing it here too
            // keeps `affects` pointing at a component of this BOM whatever happens.
            let cref = self.library(&f.component, os);
            let v = by_id.entry(id.clone()).or_insert_with(|| {
                order.push(id.clone());
                vulnerability(id, m)
            });
            if let Some(affects) = v["affects"].as_array_mut()
                && !affects.iter().any(|a| a["ref"] == cref.as_str())
            {
                affects.push(json!({
                    "ref": cref,
                    "versions": [{"version": f.component.version, "status": "affected"}],
                }));
            }
        }
        Value::Array(order.iter().filter_map(|id| by_id.remove(id)).collect())
    }
}

/// Where an id is defined: NVD for CVEs, GitHub's database for GHSAs, OSV otherwise.
fn id_source(id: &str) -> Value {
    let enc = percent_encode(id, &[]);
    if id.starts_with("CVE-") {
        json!({"name": "NVD", "url": format!("https://nvd.nist.gov/vuln/detail/{enc}")})
    } else if id.starts_with("GHSA-") {
        json!({"name": "GitHub", "url": format!("https://github.com/advisories/{enc}")})
    } else {
        json!({"name": "OSV", "url": format!("https://osv.dev/vulnerability/{enc}")})
    }
}

fn vulnerability(id: &str, m: &ServerAdvisoryMatch) -> Value {
    let f = &m.found;
    // The rating comes from the OSV record that matched.
    let record = f.records.first().map_or(id, String::as_str);
    let mut rating = Map::new();
    rating.insert(
        "source".into(),
        json!({"name": "OSV", "url": format!("https://osv.dev/vulnerability/{}", percent_encode(record, &[]))}),
    );
    rating.insert("severity".into(), json!(f.severity.as_str()));
    match &f.cvss {
        Some(c) => {
            rating.insert("score".into(), json!(c.score));
            rating.insert("vector".into(), json!(c.vector));
            rating.insert("method".into(), json!(cvss_method(&c.vector)));
        }
        None => {
            rating.insert("method".into(), json!("other"));
            rating.insert(
                "justification".into(),
                json!(format!("severity from {}", f.severity_source)),
            );
        }
    }
    let references: Vec<Value> = f
        .ids
        .iter()
        .filter(|i| i.as_str() != id)
        .map(|i| json!({"id": i, "source": id_source(i)}))
        .collect();
    let recommendation = if !f.fixed.is_empty() {
        format!("Upgrade to a fixed version: {}", f.fixed.join(", "))
    } else if f.no_fix_known {
        "No fixed version is known; mitigate (restrict access, replace the component).".into()
    } else if !f.last_affected.is_empty() {
        format!(
            "Versions after {} are not listed as affected",
            f.last_affected.join(", ")
        )
    } else {
        "See the advisory for remediation.".into()
    };
    let mut props = vec![prop("records", f.records.join(", "))];
    for how in &f.matched_by {
        props.push(prop("matched_by", how));
    }
    if f.low_confidence {
        props.push(prop("low_confidence", "true"));
    }
    let mut v = json!({
        "bom-ref": format!("vuln:{id}"),
        "id": id,
        "source": id_source(id),
        "ratings": [Value::Object(rating)],
        "description": f.summary,
        "recommendation": recommendation,
        "affects": [],
        "properties": props,
    });
    if !references.is_empty() {
        v["references"] = json!(references);
    }
    v
}

/// CycloneDX's name for the CVSS version a vector is written in.
fn cvss_method(vector: &str) -> &'static str {
    if vector.starts_with("CVSS:4.") {
        "CVSSv4"
    } else if vector.starts_with("CVSS:3.1") {
        "CVSSv31"
    } else if vector.starts_with("CVSS:3.") {
        "CVSSv3"
    } else if vector.starts_with("AV:") || vector.starts_with("(AV:") {
        "CVSSv2"
    } else {
        "other"
    }
}

fn model_ref(path: &str) -> String {
    format!("model:{}", digest(&[path]))
}

fn library_ref(c: &Component) -> String {
    format!(
        "lib:{}:{}@{}:{}",
        ecosystem_label(c.ecosystem),
        c.key,
        c.version,
        digest(&[&c.path])
    )
}

fn ecosystem_label(e: Ecosystem) -> &'static str {
    match e {
        Ecosystem::PyPI => "PyPI",
        Ecosystem::Go => "Go",
        Ecosystem::LlamaCpp => "llama.cpp",
        Ecosystem::Debian => "Debian",
        Ecosystem::System => "system",
    }
}

fn integrity_label(i: &crate::model::Integrity) -> String {
    use crate::model::Integrity;
    match i {
        Integrity::Verified => "verified".into(),
        Integrity::Mismatch { actual_sha256 } => format!("mismatch (content {actual_sha256})"),
        Integrity::NoDigest => "no digest named by the store".into(),
        Integrity::NotChecked { why } => format!("not checked: {why}"),
    }
}

/// The package URL of a component, where the purl spec has a type for it.
/// None for llama.cpp builds whose number is not a llama.cpp tag (vendored
/// copies), Go's toolchain pseudo-module, and host software without a package.
pub fn purl(c: &Component, os: Option<&str>) -> Option<String> {
    let ver = |v: &str| percent_encode(v, &[]);
    match c.ecosystem {
        // purl pypi: PEP 503 name, lowercase, `_` as `-` (the key already is).
        Ecosystem::PyPI => Some(format!(
            "pkg:pypi/{}@{}",
            percent_encode(&c.key, &[]),
            ver(&c.version)
        )),
        Ecosystem::Go => {
            // `stdlib` is OSV's name for the toolchain; the purl spec has none.
            if c.name == "stdlib" {
                return None;
            }
            let path: Vec<String> = c.name.split('/').map(|s| percent_encode(s, &[])).collect();
            let mut p = format!("pkg:golang/{}", path.join("/"));
            if c.version.starts_with('v') {
                p.push('@');
                p.push_str(&ver(&c.version));
            }
            Some(p)
        }
        // Tags of ggml-org/llama.cpp are `b<N>`: only a real master build number names one.
        Ecosystem::LlamaCpp => c
            .canonical_version
            .as_ref()
            .map(|b| format!("pkg:github/ggml-org/llama.cpp@{b}")),
        Ecosystem::Debian => {
            let distro = match os {
                Some(o) if o.to_ascii_lowercase().contains("ubuntu") => "ubuntu",
                _ => "debian",
            };
            Some(format!(
                "pkg:deb/{distro}/{}@{}",
                percent_encode(&c.key, &[]),
                ver(&c.version)
            ))
        }
        Ecosystem::System => None,
    }
}

struct ModelFile<'a> {
    r: &'a str,
    path: &'a str,
    format: Option<&'a ModelFormat>,
    size: Option<u64>,
    hash: &'a FileHash,
    analysis: &'a ModelAnalysis,
    verdict: Option<FileVerdict>,
    provenance: &'a Provenance,
    extra: Vec<Value>,
}

fn model_component(m: ModelFile<'_>) -> Value {
    let p = m.provenance;
    let file_name = m.path.rsplit('/').next().unwrap_or(m.path);
    let repo_name = p
        .repo
        .as_deref()
        .filter(|r| !r.contains("://"))
        .map(|r| r.rsplit('/').next().unwrap_or(r));
    let meta = m.analysis.metadata.as_ref();
    let name = repo_name
        .or(meta.and_then(|x| x.name.as_deref()))
        .unwrap_or(file_name);
    let mut c = json!({
        "type": "machine-learning-model",
        "bom-ref": m.r,
        "name": name,
    });
    if let Some(publisher) = &p.publisher {
        c["publisher"] = json!(publisher);
        c["group"] = json!(publisher);
    }
    if let Some(rev) = &p.revision {
        c["version"] = json!(rev);
    }
    if let FileHash::Known { sha256 } = m.hash {
        c["hashes"] = json!([{"alg": "SHA-256", "content": sha256}]);
    }
    if let Some(l) = &p.license {
        // A name, not an SPDX id: the file's claim is kept as written.
        c["licenses"] = json!([{"license": {"name": l}}]);
    }
    let refs = external_refs(p);
    if !refs.is_empty() {
        c["externalReferences"] = json!(refs);
    }
    if let Some(arch) = meta.and_then(|x| x.architecture.as_deref()) {
        c["modelCard"] = json!({"modelParameters": {"modelArchitecture": arch}});
    }
    let mut props = vec![prop("path", m.path)];
    if let Some(f) = m.format {
        props.push(prop("format", f.label()));
    }
    if let Some(s) = m.size {
        props.push(prop("size_bytes", s.to_string()));
    }
    match m.hash {
        FileHash::Known { .. } => {}
        FileHash::Pending { why } => props.push(prop("hash", format!("pending: {why}"))),
        FileHash::Unknown { why } => props.push(prop("hash", format!("unknown: {why}"))),
    }
    props.push(prop(
        "verdict",
        // What `aiposture scan` says of the content (judged in `rules`).
        m.verdict.map_or("not judged", FileVerdict::label),
    ));
    props.push(prop(
        "provenance",
        match p.state {
            ProvenanceState::Known => p.label(),
            ProvenanceState::Unknown => "unknown".into(),
        },
    ));
    for b in &p.base_models {
        props.push(prop("base_model", b));
    }
    if let Some(q) = meta.and_then(|x| x.quantization.as_deref()) {
        props.push(prop("quantization", q));
    }
    if let Some(n) = meta.and_then(|x| x.parameter_count) {
        props.push(prop("parameter_count", n.to_string()));
    }
    props.extend(m.extra);
    c["properties"] = json!(props);
    c
}

/// Where the model can be found: its Hugging Face repository when its location
/// shows one, and URLs its header claims (kept only without credentials in them).
fn external_refs(p: &Provenance) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(repo) = &p.repo
        && let Some(src) = p.source_of("repo", repo)
        && src.starts_with("Hugging Face")
        && !repo.contains("://")
    {
        let segs: Vec<String> = repo.split('/').map(|s| percent_encode(s, &[])).collect();
        let mut url = format!("https://huggingface.co/{}", segs.join("/"));
        if let Some(rev) = &p.revision {
            url.push_str(&format!("/tree/{}", percent_encode(rev, &[])));
        }
        out.push(json!({"type": "distribution", "url": url, "comment": src}));
    }
    for f in &p.facts {
        if !(f.field == "url" || (f.field == "repo" && f.value.contains("://"))) {
            continue;
        }
        let clean = crate::model::redact::redact_text(&f.value) == f.value;
        let web = f.value.starts_with("https://") || f.value.starts_with("http://");
        if clean && web && !f.value.contains(char::is_whitespace) {
            let kind = if f.field == "repo" { "vcs" } else { "website" };
            out.push(json!({"type": kind, "url": f.value, "comment": f.source}));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::advisory::component;

    #[test]
    fn purls_follow_the_spec_and_are_absent_where_no_type_fits() {
        let c = component(Ecosystem::PyPI, "Typing_Extensions", "2.5.1+cu124", "/m");
        assert_eq!(
            purl(&c, None).as_deref(),
            Some("pkg:pypi/typing-extensions@2.5.1%2Bcu124")
        );
        let c = component(Ecosystem::Go, "github.com/gin-gonic/gin", "v1.9.1", "/b");
        assert_eq!(
            purl(&c, None).as_deref(),
            Some("pkg:golang/github.com/gin-gonic/gin@v1.9.1")
        );
        let c = component(Ecosystem::Debian, "libc6", "2.36-9+deb12u14", "/s");
        assert_eq!(
            purl(&c, Some("Linux (Debian GNU/Linux 12)")).as_deref(),
            Some("pkg:deb/debian/libc6@2.36-9%2Bdeb12u14")
        );
        // llama.cpp build forms come judged from rules::derive.
        let mut c = component(Ecosystem::LlamaCpp, "llama.cpp", "b4589", "/l");
        c.canonical_version = Some("b4589".into());
        assert_eq!(
            purl(&c, None).as_deref(),
            Some("pkg:github/ggml-org/llama.cpp@b4589")
        );
        // Build 1: a vendored copy's count, not a llama.cpp tag.
        let mut c = component(Ecosystem::LlamaCpp, "llama.cpp", "b1", "/l");
        c.version_note = Some("not a llama.cpp master build".into());
        assert_eq!(purl(&c, None), None);
        let c = component(Ecosystem::System, "NVIDIA driver", "550.54", "/proc");
        assert_eq!(purl(&c, None), None);
    }

    #[test]
    fn serials_are_version_4_uuids() {
        let s = serial_from([0xff; 16]);
        assert_eq!(s, "urn:uuid:ffffffff-ffff-4fff-bfff-ffffffffffff");
        let a = new_serial().expect("urandom");
        assert_ne!(a, new_serial().expect("urandom"));
    }
}
