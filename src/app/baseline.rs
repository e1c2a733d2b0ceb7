//! Snapshot files read back: the two sides of `aiposture diff`, and the baseline
//! (`aiposture baseline save`) that every collection is compared with.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::error::Error;
use crate::model::baseline::BaselineRead;
use crate::model::snapshot::OLDEST_READABLE_SCHEMA;
use crate::model::{BlindSpot, SCHEMA_VERSION, Snapshot, Source};

/// Snapshot files larger than this are refused (a real one is a few MiB).
const MAX_BYTES: u64 = 512 * 1024 * 1024;

/// A collection judged as a baseline: no drift (it is what later runs drift
/// from) and nothing recorded in the timeline.
pub fn take(collector: &crate::collect::Collector) -> Result<Snapshot, Error> {
    let inv = collector.collect()?;
    Ok(crate::rules::analyse(inv, collector.knowledge()))
}

/// The events between two snapshot files (`aiposture diff`).
pub fn diff_files(old: &Path, new: &Path) -> Result<Vec<crate::model::events::Event>, Error> {
    let a = read_snapshot(old)?;
    let b = read_snapshot(new)?;
    Ok(crate::rules::diff::diff(&a, &b))
}

/// Read a file written by `aiposture snapshot`; anything else is a clear error.
pub fn read_snapshot(path: &Path) -> Result<Snapshot, Error> {
    let read_err = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let len = std::fs::metadata(path).map_err(read_err)?.len();
    let not = |message: String| Error::NotASnapshot {
        path: path.to_path_buf(),
        message,
    };
    if len > MAX_BYTES {
        return Err(not(format!("{len} bytes, more than any snapshot")));
    }
    let bytes = std::fs::read(path).map_err(read_err)?;
    parse_snapshot(&bytes).map_err(not)
}

/// A snapshot document from bytes, its schema version checked first.
pub(crate) fn parse_snapshot(bytes: &[u8]) -> Result<Snapshot, String> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not JSON ({e})"))?;
    let version = value
        .get("schema_version")
        .ok_or("no schema_version field")?
        .as_u64()
        .ok_or("schema_version is not a number")?;
    if !(u64::from(OLDEST_READABLE_SCHEMA)..=u64::from(SCHEMA_VERSION)).contains(&version) {
        return Err(format!(
            "schema_version {version}, this aiposture reads {OLDEST_READABLE_SCHEMA} to {SCHEMA_VERSION}"
        ));
    }
    serde_json::from_value(value).map_err(|e| format!("does not match the snapshot schema ({e})"))
}

/// File identity: a changed file is read again, an unchanged one is not.
type FileId = (u64, u64, u64, i64, i64);

/// The baseline file, re-read only when it changes (the dashboard asks every refresh).
#[derive(Debug, Default)]
pub struct Reader {
    path: Option<PathBuf>,
    last: Mutex<Option<(FileId, BaselineRead)>>,
}

impl Reader {
    pub fn new(path: Option<PathBuf>) -> Reader {
        Reader {
            path,
            last: Mutex::new(None),
        }
    }

    pub fn read(&self) -> BaselineRead {
        let Some(path) = &self.path else {
            return BaselineRead::Absent;
        };
        let shown = path.display().to_string();
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return BaselineRead::Absent,
            Err(e) => return unusable(&shown, e.to_string()),
        };
        let id = (
            meta.dev(),
            meta.ino(),
            meta.len(),
            meta.mtime(),
            meta.mtime_nsec(),
        );
        let mut last = match self.last.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some((seen, read)) = last.as_ref()
            && *seen == id
        {
            return read.clone();
        }
        let read = match read_snapshot(path) {
            Ok(s) => BaselineRead::Loaded {
                path: shown.clone(),
                snapshot: Arc::new(s),
            },
            Err(e) => unusable(&shown, crate::error::chain(&e)),
        };
        *last = Some((id, read.clone()));
        read
    }
}

fn unusable(path: &str, reason: String) -> BaselineRead {
    BaselineRead::Unusable(BlindSpot {
        what: "baseline snapshot".into(),
        path: Source::path(path),
        reason,
        consequence: "changes since the baseline are not reported; run `aiposture baseline save` \
                      to write a new one"
            .into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_json_is_not_a_snapshot() {
        for (text, why) in [
            ("not json", "not JSON"),
            ("{\"a\": 1}", "no schema_version"),
            ("{\"schema_version\": 99}", "schema_version 99"),
            ("{\"schema_version\": 1}", "does not match"),
        ] {
            let e = parse_snapshot(text.as_bytes()).err().unwrap_or_default();
            assert!(e.contains(why), "{text}: {e}");
        }
    }

    #[test]
    fn reader_reports_absent_unusable_and_rereads_on_change() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("baseline.json");
        let r = Reader::new(Some(path.clone()));
        assert!(matches!(r.read(), BaselineRead::Absent));
        std::fs::write(&path, "{}").expect("write");
        match r.read() {
            BaselineRead::Unusable(b) => assert!(b.reason.contains("schema_version"), "{b:?}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(Reader::default().read(), BaselineRead::Absent));
    }
}
