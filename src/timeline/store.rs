//! The timeline store: events, first/last seen of listeners, model files and
//! egress peers, samples for the header's sparklines, and the last observed
//! snapshot, in one SQLite file under the state directory.
//!
//! SQLite in WAL mode with `synchronous=FULL`: a record is one transaction, so
//! a crash (or kill -9) mid-write leaves the file as it was before it or after
//! it, and an acknowledged record (committed) survives. Two instances share the
//! file through SQLite's locking, waiting up to `BUSY` for each other.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::Error;
use crate::model::events::Retention;
use crate::model::events::{Event, EventKind, EventSubject};
use crate::model::{Evidence, Severity};

const BUSY: Duration = Duration::from_secs(5);
/// Bumped when the tables change; an older file is migrated or refused.
const SCHEMA: i64 = 1;

/// One observation to record, written in a single transaction.
pub struct Record<'a> {
    pub time: &'a str,
    pub events: &'a [Event],
    /// (kind, key) of everything seen now: listeners, models, egress peers.
    pub seen: &'a [(String, String)],
    pub open_findings: u64,
    pub egress: u64,
    /// The snapshot JSON the next run diffs against.
    pub last: &'a str,
}

pub struct Store {
    conn: Connection,
    /// The file, or `None` in memory.
    pub path: Option<PathBuf>,
    retention: Retention,
}

/// Switch the file to WAL. SQLite answers "database is locked" at once, without
/// its busy handler, when two processes make a fresh file WAL at the same time;
/// that race is retried for up to `BUSY`. A file already in WAL is left alone.
fn wal_mode(conn: &Connection) -> rusqlite::Result<()> {
    let started = std::time::Instant::now();
    loop {
        let mode: rusqlite::Result<String> =
            conn.query_row("PRAGMA journal_mode", [], |r| r.get(0));
        let result = match mode {
            Ok(m) if m.eq_ignore_ascii_case("wal") => return Ok(()),
            Ok(_) => conn.pragma_update(None, "journal_mode", "WAL"),
            Err(e) => Err(e),
        };
        match result {
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::DatabaseBusy && started.elapsed() < BUSY =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

fn db_err(path: &Option<PathBuf>, e: rusqlite::Error) -> Error {
    Error::Store {
        path: path
            .as_ref()
            .map_or_else(|| ":memory:".into(), |p| p.display().to_string()),
        message: e.to_string(),
    }
}

impl Store {
    /// Opens (creating) `dir/timeline.sqlite3`.
    pub fn open(dir: &Path, retention: Retention) -> Result<Store, Error> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Write {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join("timeline.sqlite3");
        // History names servers, paths and peers: readable by its owner only.
        {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(&path)
                .map_err(|source| Error::Write {
                    path: path.clone(),
                    source,
                })?;
        }
        let conn = Connection::open(&path).map_err(|e| db_err(&Some(path.clone()), e))?;
        Self::init(conn, Some(path), retention)
    }

    /// A store that lives as long as this process (state dir not writable).
    pub fn in_memory(retention: Retention) -> Result<Store, Error> {
        let conn = Connection::open_in_memory().map_err(|e| db_err(&None, e))?;
        Self::init(conn, None, retention)
    }

    fn init(conn: Connection, path: Option<PathBuf>, retention: Retention) -> Result<Store, Error> {
        let err = |e| db_err(&path, e);
        conn.busy_timeout(BUSY).map_err(err)?;
        if path.is_some() {
            wal_mode(&conn).map_err(err)?;
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(err)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS events (
                 id INTEGER PRIMARY KEY,
                 time TEXT NOT NULL,
                 kind TEXT NOT NULL,
                 severity TEXT NOT NULL,
                 subject TEXT NOT NULL,
                 before TEXT,
                 after TEXT,
                 evidence TEXT NOT NULL);
             CREATE INDEX IF NOT EXISTS events_time ON events(time);
             CREATE TABLE IF NOT EXISTS seen (
                 kind TEXT NOT NULL,
                 key TEXT NOT NULL,
                 first_seen TEXT NOT NULL,
                 last_seen TEXT NOT NULL,
                 PRIMARY KEY (kind, key)) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS samples (
                 time TEXT PRIMARY KEY,
                 open_findings INTEGER NOT NULL,
                 egress INTEGER NOT NULL) WITHOUT ROWID;",
        )
        .map_err(err)?;
        let version: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE name = 'schema'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(err)?;
        match version.as_deref().map(str::parse::<i64>) {
            None => {
                conn.execute(
                    "INSERT OR IGNORE INTO meta(name, value) VALUES ('schema', ?1)",
                    params![SCHEMA.to_string()],
                )
                .map_err(err)?;
            }
            Some(Ok(SCHEMA)) => {}
            Some(other) => {
                return Err(Error::Store {
                    path: path
                        .as_ref()
                        .map_or_else(|| ":memory:".into(), |p| p.display().to_string()),
                    message: format!(
                        "timeline schema {other:?} is not {SCHEMA}: written by another aiposture version; move the file away to start a new history"
                    ),
                });
            }
        }
        Ok(Store {
            conn,
            path,
            retention,
        })
    }

    /// Writes one observation: all of it, or (on any error) none of it.
    pub fn record(&mut self, r: &Record<'_>) -> Result<(), Error> {
        let path = self.path.clone();
        let err = |e| db_err(&path, e);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err)?;
        {
            let mut ins = tx
                .prepare_cached(
                    "INSERT INTO events(time, kind, severity, subject, before, after, evidence)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(err)?;
            for e in r.events {
                ins.execute(params![
                    e.time,
                    e.kind.as_str(),
                    e.severity.as_str(),
                    serde_json::to_string(&e.subject).unwrap_or_default(),
                    e.before,
                    e.after,
                    serde_json::to_string(&e.evidence).unwrap_or_default(),
                ])
                .map_err(err)?;
            }
            let mut seen = tx
                .prepare_cached(
                    "INSERT INTO seen(kind, key, first_seen, last_seen) VALUES (?1, ?2, ?3, ?3)
                     ON CONFLICT(kind, key) DO UPDATE SET last_seen = excluded.last_seen",
                )
                .map_err(err)?;
            for (kind, key) in r.seen {
                seen.execute(params![kind, key, r.time]).map_err(err)?;
            }
            tx.execute(
                "INSERT OR REPLACE INTO samples(time, open_findings, egress) VALUES (?1, ?2, ?3)",
                params![r.time, r.open_findings as i64, r.egress as i64],
            )
            .map_err(err)?;
            tx.execute(
                "INSERT OR REPLACE INTO meta(name, value) VALUES ('last', ?1)",
                params![r.last],
            )
            .map_err(err)?;
            let cutoff = cutoff(r.time, self.retention.days);
            if let Some(c) = &cutoff {
                tx.execute("DELETE FROM events WHERE time < ?1", params![c])
                    .map_err(err)?;
                tx.execute("DELETE FROM samples WHERE time < ?1", params![c])
                    .map_err(err)?;
                tx.execute("DELETE FROM seen WHERE last_seen < ?1", params![c])
                    .map_err(err)?;
            }
            tx.execute(
                "DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?1",
                params![self.retention.max_events as i64],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    /// The snapshot JSON of the last record, by any instance.
    pub fn last(&self) -> Result<Option<String>, Error> {
        self.conn
            .query_row("SELECT value FROM meta WHERE name = 'last'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| db_err(&self.path, e))
    }

    /// First-seen times of every key of `kind`.
    pub fn first_seen(&self, kind: &str) -> Result<HashMap<String, String>, Error> {
        let err = |e| db_err(&self.path, e);
        let mut q = self
            .conn
            .prepare_cached("SELECT key, first_seen FROM seen WHERE kind = ?1")
            .map_err(err)?;
        let rows = q
            .query_map(params![kind], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    /// The newest events, newest first.
    pub fn recent(&self, limit: usize) -> Result<Vec<Event>, Error> {
        let err = |e| db_err(&self.path, e);
        let mut q = self
            .conn
            .prepare_cached(
                "SELECT time, kind, severity, subject, before, after, evidence
                 FROM events ORDER BY id DESC LIMIT ?1",
            )
            .map_err(err)?;
        let rows = q
            .query_map(params![limit as i64], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })
            .map_err(err)?;
        let mut out = Vec::new();
        for row in rows {
            let (time, kind, severity, subject, before, after, evidence) = row.map_err(err)?;
            // A row this version cannot read (a kind from a newer one) is skipped.
            let (Some(kind), Ok(severity)) =
                (EventKind::parse(&kind), severity.parse::<Severity>())
            else {
                continue;
            };
            out.push(Event {
                time,
                kind,
                severity,
                subject: serde_json::from_str::<EventSubject>(&subject).unwrap_or_default(),
                before,
                after,
                evidence: serde_json::from_str::<Vec<Evidence>>(&evidence).unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// (time, open findings, egress connections) since `from` (RFC 3339), oldest first.
    pub fn samples_since(&self, from: &str) -> Result<Vec<(String, u64, u64)>, Error> {
        let err = |e| db_err(&self.path, e);
        let mut q = self
            .conn
            .prepare_cached(
                "SELECT time, open_findings, egress FROM samples WHERE time >= ?1 ORDER BY time",
            )
            .map_err(err)?;
        let rows = q
            .query_map(params![from], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?.max(0) as u64,
                    r.get::<_, i64>(2)?.max(0) as u64,
                ))
            })
            .map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    /// SQLite's own consistency check of the file: "ok" when sound.
    pub fn integrity_check(&self) -> Result<String, Error> {
        self.conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| db_err(&self.path, e))
    }

    /// Number of events kept.
    pub fn event_count(&self) -> Result<u64, Error> {
        self.conn
            .query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0))
            .map(|n| n.max(0) as u64)
            .map_err(|e| db_err(&self.path, e))
    }
}

/// RFC 3339 time `days` before `now` (RFC 3339), for pruning.
pub fn cutoff(now: &str, days: u32) -> Option<String> {
    let t = humantime::parse_rfc3339_weak(now).ok()?;
    let back = t.checked_sub(Duration::from_secs(u64::from(days) * 86_400))?;
    Some(humantime::format_rfc3339_seconds(back).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(time: &str, kind: EventKind) -> Event {
        Event {
            time: time.into(),
            kind,
            severity: Severity::Info,
            subject: EventSubject {
                product: Some("llama_server".into()),
                ..Default::default()
            },
            before: Some("a".into()),
            after: None,
            evidence: vec![Evidence::new(
                crate::model::Source::from_v1("/proc/1/net/tcp"),
                "row",
            )],
        }
    }

    #[test]
    fn records_round_trip_and_first_seen_stays() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut s = Store::open(dir.path(), Retention::default()).expect("open");
        let seen = vec![("listener".to_string(), "k".to_string())];
        let ev = [event("2026-01-01T00:00:00Z", EventKind::ListenerAdded)];
        s.record(&Record {
            time: "2026-01-01T00:00:00Z",
            events: &ev,
            seen: &seen,
            open_findings: 3,
            egress: 1,
            last: "{}",
        })
        .expect("record");
        s.record(&Record {
            time: "2026-01-02T00:00:00Z",
            events: &[],
            seen: &seen,
            open_findings: 2,
            egress: 0,
            last: "{\"x\":1}",
        })
        .expect("record");
        drop(s);
        let s = Store::open(dir.path(), Retention::default()).expect("reopen");
        assert_eq!(
            s.first_seen("listener")
                .expect("seen")
                .get("k")
                .map(String::as_str),
            Some("2026-01-01T00:00:00Z")
        );
        let got = s.recent(10).expect("recent");
        assert_eq!(got, ev.to_vec());
        assert_eq!(s.last().expect("last").as_deref(), Some("{\"x\":1}"));
        assert_eq!(
            s.samples_since("2026-01-01T12:00:00Z").expect("samples"),
            vec![("2026-01-02T00:00:00Z".to_string(), 2, 0)]
        );
    }

    #[test]
    fn retention_prunes_old_events_and_caps_the_count() {
        let mut s = Store::in_memory(Retention {
            days: 1,
            max_events: 2,
        })
        .expect("memory store");
        let evs = [
            event("2026-01-01T00:00:00Z", EventKind::ServerStarted),
            event("2026-01-03T00:00:00Z", EventKind::ServerStopped),
            event("2026-01-03T00:00:01Z", EventKind::ServerStarted),
            event("2026-01-03T00:00:02Z", EventKind::ServerStopped),
        ];
        s.record(&Record {
            time: "2026-01-03T00:00:02Z",
            events: &evs,
            seen: &[],
            open_findings: 0,
            egress: 0,
            last: "{}",
        })
        .expect("record");
        assert_eq!(s.event_count().expect("count"), 2);
        let kept: Vec<String> = s
            .recent(10)
            .expect("recent")
            .into_iter()
            .map(|e| e.time)
            .collect();
        assert_eq!(kept, ["2026-01-03T00:00:02Z", "2026-01-03T00:00:01Z"]);
    }

    #[test]
    fn a_newer_schema_is_refused_not_overwritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        drop(Store::open(dir.path(), Retention::default()).expect("open"));
        let c = Connection::open(dir.path().join("timeline.sqlite3")).expect("sqlite");
        c.execute("UPDATE meta SET value = '99' WHERE name = 'schema'", [])
            .expect("update");
        drop(c);
        let e = Store::open(dir.path(), Retention::default()).err();
        assert!(e.is_some_and(|e| e.to_string().contains("schema")));
    }
}
