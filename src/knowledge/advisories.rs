//! OSV advisory data: the embedded set (`assets/advisories/**.json`, built from
//! the research notes by scripts/build-advisories.py) or an osv.dev export the
//! operator copied in (`<ECOSYSTEM>/all.zip`, a directory of OSV JSON files, or a
//! directory holding such zips, like osv-scanner's offline cache).
//!
//! Records are indexed by (ecosystem, normalised package name): matching looks up
//! the few records of one package, never scans them all. Reading is lenient
//! (unknown fields ignored, as the OSV schema asks) but bounded, and a record
//! that does not parse is counted and named, never dropped silently.

use std::collections::HashMap;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::error::Error;
use crate::model::AdvisoryData;
use crate::model::components::{Component, Ecosystem};

const EMBEDDED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/advisories.rs"));
const RENAMES: &str = include_str!("../../assets/package_renames.toml");

/// One OSV record is a few KiB; the largest PyPI ones (long `versions[]`) stay
/// well under this.
const MAX_RECORD_BYTES: u64 = 8 << 20;
/// A per-ecosystem export holds tens of thousands of records; the whole of osv.dev
/// a few hundred thousand.
const MAX_RECORDS: usize = 1_000_000;
/// Directory walk: `<dir>/<ECOSYSTEM>/<ID>.json` or `<cache>/osv-scanner/<ECO>/all.zip`.
const MAX_DEPTH: usize = 4;
const MAX_ERRORS_KEPT: usize = 5;
/// Summaries are shown in one line; `details` is not kept at all.
const MAX_SUMMARY_CHARS: usize = 300;
pub use crate::model::advisory::DEFAULT_MAX_AGE_DAYS;

#[derive(Debug, Clone, Deserialize)]
pub struct OsvRecord {
    pub id: String,
    #[serde(default)]
    pub modified: String,
    #[serde(default)]
    pub withdrawn: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub details: Option<String>,
    #[serde(default)]
    pub severity: Vec<OsvSeverity>,
    #[serde(default)]
    pub affected: Vec<OsvAffected>,
    #[serde(default)]
    pub database_specific: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OsvSeverity {
    #[serde(rename = "type")]
    pub kind: String,
    pub score: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OsvAffected {
    #[serde(default)]
    pub package: Option<OsvPackage>,
    #[serde(default)]
    pub severity: Vec<OsvSeverity>,
    #[serde(default)]
    pub ranges: Vec<OsvRange>,
    #[serde(default)]
    pub versions: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OsvPackage {
    #[serde(default)]
    pub ecosystem: String,
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OsvRange {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub repo: Option<String>,
    #[serde(default)]
    pub events: Vec<OsvEvent>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct OsvEvent {
    #[serde(default)]
    pub introduced: Option<String>,
    #[serde(default)]
    pub fixed: Option<String>,
    #[serde(default)]
    pub last_affected: Option<String>,
    #[serde(default)]
    pub limit: Option<String>,
}

/// A record as kept in memory: what matching and the findings need.
#[derive(Debug, Clone)]
pub struct Advisory {
    pub id: String,
    pub aliases: Vec<String>,
    pub summary: String,
    pub modified: String,
    /// Top-level and per-affected severities together.
    pub severity: Vec<OsvSeverity>,
    /// GHSA's own rating (`database_specific.severity`), used without a vector.
    pub database_severity: Option<String>,
    pub affected: Vec<OsvAffected>,
    /// `embedded:PyPI/PYSEC-2025-42.json`, `/srv/osv/PyPI/all.zip:GHSA-….json`.
    pub origin: String,
}

/// Index key: the ecosystem without its release qualifier (`Debian:12` →
/// `Debian`) and the package name normalised for that ecosystem.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PackageKey {
    pub ecosystem: String,
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RenameFile {
    rename: Vec<Rename>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rename {
    ecosystem: String,
    from: String,
    to: String,
    #[allow(dead_code)] // documentation: where the rename is attested
    source: String,
}

/// Old name → current name, per ecosystem (assets/package_renames.toml).
#[derive(Debug, Clone, Default)]
pub struct Renames(HashMap<PackageKey, String>);

impl Renames {
    pub fn embedded() -> Result<Self, Error> {
        let f: RenameFile = toml::from_str(RENAMES).map_err(|e| Error::Asset {
            path: "assets/package_renames.toml".into(),
            message: e.to_string(),
        })?;
        let mut map = HashMap::new();
        for r in f.rename {
            let from = normalise_name(&r.ecosystem, &r.from);
            let to = normalise_name(&r.ecosystem, &r.to);
            map.insert(
                PackageKey {
                    ecosystem: r.ecosystem,
                    name: from,
                },
                to,
            );
        }
        Ok(Renames(map))
    }

    fn canonical(&self, key: PackageKey) -> PackageKey {
        match self.0.get(&key) {
            Some(to) => PackageKey {
                ecosystem: key.ecosystem,
                name: to.clone(),
            },
            None => key,
        }
    }
}

/// PEP 503 for PyPI; repository URLs reduced to `host/owner/name` lower-case for
/// GIT; other ecosystems compare names as written (Go module paths are
/// case-sensitive).
pub fn normalise_name(ecosystem: &str, name: &str) -> String {
    match ecosystem {
        "PyPI" => pep503(name),
        "GIT" => normalise_repo(name),
        _ => name.trim().to_string(),
    }
}

fn pep503(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

fn normalise_repo(url: &str) -> String {
    let u = url.trim().to_ascii_lowercase();
    let u = u.split_once("://").map_or(u.as_str(), |(_, rest)| rest);
    let u = u.strip_prefix("git@").unwrap_or(u).replacen(':', "/", 1);
    let u = u.trim_end_matches('/');
    u.strip_suffix(".git").unwrap_or(u).to_string()
}

fn base_ecosystem(e: &str) -> &str {
    e.split_once(':').map_or(e, |(base, _)| base).trim()
}

/// The llama.cpp repository: the key llama.cpp builds are matched under.
pub const LLAMA_CPP_REPO: &str = "github.com/ggml-org/llama.cpp";

/// The advisory set, indexed.
#[derive(Debug, Clone, Default)]
pub struct AdvisoryDb {
    records: Vec<Advisory>,
    /// (record index, affected index) per package.
    index: HashMap<PackageKey, Vec<(u32, u32)>>,
    renames: Renames,
    pub data: AdvisoryData,
}

impl AdvisoryDb {
    /// The set shipped in the binary. A record that does not parse is a build
    /// defect, so it is an error here (tested), not a skipped file.
    pub fn embedded() -> Result<Self, Error> {
        let mut b = Builder::new("embedded".into())?;
        for (name, text) in EMBEDDED {
            let rec: OsvRecord = serde_json::from_str(text).map_err(|e| Error::Asset {
                path: format!("assets/advisories/{name}"),
                message: e.to_string(),
            })?;
            b.add(rec, format!("embedded:{name}"));
        }
        Ok(b.finish())
    }

    /// An osv.dev export: `all.zip`, a directory of `*.json`, or a directory of
    /// per-ecosystem `all.zip` files. Unreadable records are counted in `data`.
    pub fn from_path(path: &Path) -> Result<Self, Error> {
        let mut b = Builder::new(path.display().to_string())?;
        let meta = std::fs::metadata(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        if meta.is_dir() {
            b.walk(path, 0)?;
        } else {
            b.zip_file(path)?;
        }
        if b.db.records.is_empty() && b.db.data.withdrawn == 0 {
            return Err(Error::Advisories {
                path: path.to_path_buf(),
                message: format!(
                    "no OSV records found ({} unreadable{})",
                    b.db.data.unreadable,
                    b.db.data
                        .errors
                        .first()
                        .map(|e| format!(", first: {e}"))
                        .unwrap_or_default()
                ),
            });
        }
        Ok(b.finish())
    }

    /// Built from records already in memory (tests, benchmarks).
    pub fn from_records(
        origin: &str,
        records: impl IntoIterator<Item = OsvRecord>,
    ) -> Result<Self, Error> {
        let mut b = Builder::new(origin.into())?;
        for r in records {
            let o = format!("{origin}:{}", r.id);
            b.add(r, o);
        }
        Ok(b.finish())
    }

    /// One OSV record as bytes (an untrusted download): indexed, or counted as
    /// unreadable with the reason. The entry point the fuzzer drives.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let mut b = Builder::new("bytes".into())?;
        b.add_bytes(bytes, "bytes".into());
        Ok(b.finish())
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The index key of an installed component. Debian advisories are filed
    /// against the source package; llama.cpp builds are keyed by its repository.
    pub fn key_of(&self, c: &Component) -> PackageKey {
        let (eco, name) = match c.ecosystem {
            Ecosystem::PyPI => ("PyPI", c.name.as_str()),
            Ecosystem::Go => ("Go", c.name.as_str()),
            Ecosystem::LlamaCpp => ("GIT", LLAMA_CPP_REPO),
            Ecosystem::Debian => ("Debian", c.source_package.as_deref().unwrap_or(&c.name)),
            Ecosystem::System => ("system", c.name.as_str()),
        };
        self.renames.canonical(PackageKey {
            ecosystem: eco.to_string(),
            name: normalise_name(eco, name),
        })
    }

    /// Whether the data has any record of `key`'s ecosystem (`Debian` counts
    /// records of every Debian release).
    pub fn covers(&self, key: &PackageKey) -> bool {
        self.data
            .ecosystems
            .keys()
            .any(|e| base_ecosystem(e) == key.ecosystem)
    }

    /// The records (and which of their `affected[]` entries) naming this package.
    pub fn lookup<'a>(
        &'a self,
        key: &PackageKey,
    ) -> impl Iterator<Item = (&'a Advisory, &'a OsvAffected)> + 'a {
        self.index
            .get(key)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|&(r, a)| {
                let rec = self.records.get(r as usize)?;
                Some((rec, rec.affected.get(a as usize)?))
            })
    }
}

struct Builder {
    db: AdvisoryDb,
}

impl Builder {
    fn new(origin: String) -> Result<Self, Error> {
        Ok(Builder {
            db: AdvisoryDb {
                renames: Renames::embedded()?,
                data: AdvisoryData {
                    origin,
                    max_age_days: DEFAULT_MAX_AGE_DAYS,
                    ..AdvisoryData::default()
                },
                ..AdvisoryDb::default()
            },
        })
    }

    fn error(&mut self, what: String) {
        self.db.data.unreadable += 1;
        if self.db.data.errors.len() < MAX_ERRORS_KEPT {
            self.db.data.errors.push(what);
        }
    }

    fn full(&self) -> bool {
        self.db.records.len() + self.db.data.withdrawn + self.db.data.unreadable >= MAX_RECORDS
    }

    fn add_bytes(&mut self, bytes: &[u8], origin: String) {
        match serde_json::from_slice::<OsvRecord>(bytes) {
            Ok(rec) => self.add(rec, origin),
            Err(e) => self.error(format!("{origin}: not an OSV record: {e}")),
        }
    }

    fn add(&mut self, rec: OsvRecord, origin: String) {
        if rec.modified > self.db.data.newest_modified.clone().unwrap_or_default() {
            self.db.data.newest_modified = Some(rec.modified.clone());
        }
        // Withdrawn records must never match; they only count.
        if rec.withdrawn.as_deref().is_some_and(|w| !w.is_empty()) {
            self.db.data.withdrawn += 1;
            return;
        }
        let Ok(idx) = u32::try_from(self.db.records.len()) else {
            return;
        };
        let mut named: Vec<&str> = rec
            .affected
            .iter()
            .filter_map(|a| a.package.as_ref().map(|p| p.ecosystem.as_str()))
            .filter(|e| !e.is_empty())
            .collect();
        if rec.affected.iter().any(|a| a.package.is_none()) {
            named.push("GIT");
        }
        named.sort_unstable();
        named.dedup();
        for e in named {
            *self.db.data.ecosystems.entry(e.to_string()).or_default() += 1;
        }
        for (ai, aff) in rec.affected.iter().enumerate() {
            let Ok(ai) = u32::try_from(ai) else { break };
            for key in keys_of(aff) {
                let key = self.db.renames.canonical(key);
                let slot = self.db.index.entry(key).or_default();
                if slot.last() != Some(&(idx, ai)) {
                    slot.push((idx, ai));
                }
            }
        }
        let database_severity = rec
            .database_specific
            .as_ref()
            .and_then(|d| d.get("severity"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let mut severity = rec.severity;
        for a in &rec.affected {
            severity.extend(a.severity.iter().cloned());
        }
        let summary = rec
            .summary
            .filter(|s| !s.trim().is_empty())
            .or_else(|| {
                rec.details
                    .as_deref()
                    .and_then(|d| d.lines().find(|l| !l.trim().is_empty()))
                    .map(str::to_string)
            })
            .unwrap_or_default();
        self.db.records.push(Advisory {
            id: rec.id,
            aliases: rec.aliases,
            summary: summary.trim().chars().take(MAX_SUMMARY_CHARS).collect(),
            modified: rec.modified,
            severity,
            database_severity,
            affected: rec.affected,
            origin,
        });
    }

    fn walk(&mut self, dir: &Path, depth: usize) -> Result<(), Error> {
        let entries = std::fs::read_dir(dir).map_err(|source| Error::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            if self.full() {
                break;
            }
            // symlink_metadata: a link loop or a link out of the tree is not followed.
            let Ok(meta) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            if meta.is_dir() && depth < MAX_DEPTH {
                self.walk(&p, depth + 1)?;
            } else if meta.is_file() && ext == "json" {
                self.json_file(&p, meta.len());
            } else if meta.is_file()
                && ext == "zip"
                && let Err(e) = self.zip_file(&p)
            {
                self.error(e.to_string());
            }
        }
        Ok(())
    }

    fn json_file(&mut self, p: &Path, len: u64) {
        let origin = p.display().to_string();
        if len > MAX_RECORD_BYTES {
            return self.error(format!("{origin}: {len} bytes, over {MAX_RECORD_BYTES}"));
        }
        match std::fs::read(p) {
            Ok(bytes) => self.add_bytes(&bytes, origin),
            Err(e) => self.error(format!("{origin}: {e}")),
        }
    }

    fn zip_file(&mut self, p: &Path) -> Result<(), Error> {
        let f = std::fs::File::open(p).map_err(|source| Error::Read {
            path: p.to_path_buf(),
            source,
        })?;
        self.zip(std::io::BufReader::new(f), &p.display().to_string())
            .map_err(|message| Error::Advisories {
                path: p.to_path_buf(),
                message,
            })
    }

    fn zip<R: Read + Seek>(&mut self, r: R, origin: &str) -> Result<(), String> {
        let mut z = zip::ZipArchive::new(r).map_err(|e| format!("not a readable zip: {e}"))?;
        for i in 0..z.len() {
            if self.full() {
                break;
            }
            let mut m = match z.by_index(i) {
                Ok(m) => m,
                Err(e) => {
                    self.error(format!("{origin}: member {i}: {e}"));
                    continue;
                }
            };
            let name = match m.name() {
                Ok(n) => n.into_owned(),
                Err(e) => {
                    self.error(format!("{origin}: member {i}: {e}"));
                    continue;
                }
            };
            if m.is_dir() || !name.ends_with(".json") {
                continue;
            }
            let here = format!("{origin}:{name}");
            if m.size() > MAX_RECORD_BYTES {
                self.error(format!(
                    "{here}: {} bytes, over {MAX_RECORD_BYTES}",
                    m.size()
                ));
                continue;
            }
            let mut buf = Vec::new();
            // The declared size is the archive's claim; the take() enforces it.
            match (&mut m).take(MAX_RECORD_BYTES + 1).read_to_end(&mut buf) {
                Ok(_) if buf.len() as u64 > MAX_RECORD_BYTES => {
                    self.error(format!("{here}: inflates past {MAX_RECORD_BYTES} bytes"))
                }
                Ok(_) => self.add_bytes(&buf, here),
                Err(e) => self.error(format!("{here}: {e}")),
            }
        }
        Ok(())
    }

    fn finish(self) -> AdvisoryDb {
        let mut db = self.db;
        db.data.records = db.records.len();
        db
    }
}

/// The packages one `affected[]` entry names: its package, or for the
/// package-less C/C++ records of osv.dev (GIT ranges), each range's repository.
fn keys_of(aff: &OsvAffected) -> Vec<PackageKey> {
    if let Some(p) = aff.package.as_ref().filter(|p| !p.name.is_empty()) {
        let eco = base_ecosystem(&p.ecosystem);
        return vec![PackageKey {
            ecosystem: eco.to_string(),
            name: normalise_name(eco, &p.name),
        }];
    }
    let mut keys: Vec<PackageKey> = Vec::new();
    for r in &aff.ranges {
        if let Some(repo) = &r.repo {
            let k = PackageKey {
                ecosystem: "GIT".into(),
                name: normalise_repo(repo),
            };
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalise() {
        assert_eq!(pep503("Llama_CPP.python"), "llama-cpp-python");
        assert_eq!(pep503("open--webui"), "open-webui");
        assert_eq!(
            normalise_repo("https://github.com/GGML-org/llama.cpp.git/"),
            "github.com/ggml-org/llama.cpp"
        );
        assert_eq!(
            normalise_repo("git@github.com:ggerganov/llama.cpp.git"),
            "github.com/ggerganov/llama.cpp"
        );
        assert_eq!(base_ecosystem("Debian:12"), "Debian");
    }

    #[test]
    fn embedded_set_parses_whole_and_is_indexed() {
        let db = AdvisoryDb::embedded().expect("embedded advisories");
        // 572 records in the research set, 12 of them withdrawn.
        assert_eq!(db.data.records + db.data.withdrawn, 572);
        assert_eq!(db.data.withdrawn, 12);
        assert_eq!(db.data.unreadable, 0);
        assert_eq!(db.data.origin, "embedded");
        assert!(db.data.newest_modified.as_deref() >= Some("2026-08-25"));
        let vllm = crate::model::advisory::component(Ecosystem::PyPI, "vLLM", "0.8.4", "/x");
        let n = db.lookup(&db.key_of(&vllm)).count();
        assert_eq!(n, 58, "vLLM records");
        // Renamed modules: the old path's record is found under the new one.
        let ollama = crate::model::advisory::component(
            Ecosystem::Go,
            "github.com/jmorganca/ollama",
            "v0.1.0",
            "/x",
        );
        assert!(
            db.lookup(&db.key_of(&ollama))
                .any(|(a, _)| a.id == "GO-2024-2901")
        );
        let llama =
            crate::model::advisory::component(Ecosystem::LlamaCpp, "llama.cpp", "b3560", "/x");
        assert!(
            db.lookup(&db.key_of(&llama))
                .any(|(a, _)| a.id == "CVE-2024-42479")
        );
    }
}
