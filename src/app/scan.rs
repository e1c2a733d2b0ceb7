//! Files named on the command line (`aiposture scan`), analysed exactly as the
//! collector analyses model files: sniffed by content, then `analyse::analyse`.
//! Directories are walked bounded in depth and count; symlinks inside them are
//! not followed and special files (FIFOs, devices, sockets) are never opened.

use std::path::{Path, PathBuf};

use crate::formats::analyse::analyse;
use crate::formats::magic::recognise;
use crate::knowledge::pickle_rules::PickleRules;
use crate::model::scan::{FileVerdict, ScanReport, ScannedFile};

/// Deepest directory level walked below a path given on the command line.
pub const MAX_DEPTH: usize = 32;
/// Most files examined in one run.
pub const MAX_FILES: usize = 100_000;
/// Most notes kept about skipped entries.
const MAX_NOTES: usize = 64;

/// `aiposture scan`: every file under `paths` sniffed, analysed and judged.
pub fn run(paths: &[PathBuf]) -> Result<ScanReport, crate::error::Error> {
    let rules = PickleRules::embedded()?;
    let mut report = scan_paths(paths, &rules);
    crate::rules::scan::judge(&mut report);
    Ok(report)
}

/// Sniff and analyse every file under `paths`. Never fails as a whole: a file
/// that cannot be read gets a per-file error; the verdicts are left to
/// `rules::scan::judge` (`NotAModel` until then).
pub fn scan_paths(paths: &[PathBuf], rules: &PickleRules) -> ScanReport {
    let mut report = ScanReport::default();
    let mut files = Vec::new();
    for p in paths {
        collect(p, &mut files, &mut report.notes);
    }
    report.files = scan_all(&files, rules);
    report
}

/// Most files analysed at once: one per core, up to this many.
const MAX_WORKERS: usize = 4;

/// Each file analysed on one of a few worker threads (files are independent
/// and most are small: the run is otherwise one core's), results in input order.
fn scan_all(files: &[Result<PathBuf, (PathBuf, String)>], rules: &PickleRules) -> Vec<ScannedFile> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_WORKERS)
        .min(files.len());
    if workers <= 1 {
        return files.iter().map(|f| scan_one(f, rules)).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, ScannedFile)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(f) = files.get(i) else { break };
                        mine.push((i, scan_one(f, rules)));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            // A worker that panicked takes the run down, as one thread would.
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, f)| f).collect()
}

fn note(notes: &mut Vec<String>, text: String) {
    match notes.len() {
        n if n < MAX_NOTES - 1 => notes.push(text),
        n if n == MAX_NOTES - 1 => notes.push("further notes dropped".into()),
        _ => {}
    }
}

/// Regular files at `root` (followed if it is a symlink: the operator named it)
/// and below it (never through a symlink), sorted per directory.
fn collect(
    root: &Path,
    out: &mut Vec<Result<PathBuf, (PathBuf, String)>>,
    notes: &mut Vec<String>,
) {
    let meta = match std::fs::metadata(root) {
        Ok(m) => m,
        Err(e) => {
            out.push(Err((root.to_path_buf(), e.to_string())));
            return;
        }
    };
    if meta.is_file() {
        out.push(Ok(root.to_path_buf()));
        return;
    }
    if !meta.is_dir() {
        out.push(Err((
            root.to_path_buf(),
            "not a regular file or directory".into(),
        )));
        return;
    }
    let mut stack = vec![(root.to_path_buf(), 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        let mut entries: Vec<_> = match std::fs::read_dir(&dir) {
            Ok(rd) => rd.flatten().collect(),
            Err(e) => {
                out.push(Err((dir, format!("cannot list directory: {e}"))));
                continue;
            }
        };
        entries.sort_by_key(|e| e.file_name());
        let mut subdirs = Vec::new();
        for e in entries {
            if out.len() >= MAX_FILES {
                note(notes, format!("stopped at {MAX_FILES} files"));
                return;
            }
            // file_type() is lstat: a symlink reports as a symlink.
            let Ok(ft) = e.file_type() else { continue };
            let path = e.path();
            if ft.is_dir() {
                if depth < MAX_DEPTH {
                    subdirs.push((path, depth + 1));
                } else {
                    note(
                        notes,
                        format!(
                            "{}: deeper than {MAX_DEPTH} levels, not walked",
                            path.display()
                        ),
                    );
                }
            } else if ft.is_file() {
                out.push(Ok(path));
            } else if ft.is_symlink() {
                note(notes, format!("{}: symlink not followed", path.display()));
            } else {
                note(notes, format!("{}: special file skipped", path.display()));
            }
        }
        // Reversed so that the stack yields subdirectories in name order.
        stack.extend(subdirs.into_iter().rev());
    }
}

fn scan_one(entry: &Result<PathBuf, (PathBuf, String)>, rules: &PickleRules) -> ScannedFile {
    let (path, failure) = match entry {
        Ok(p) => (p.as_path(), None),
        Err((p, e)) => (p.as_path(), Some(e.clone())),
    };
    let mut f = ScannedFile {
        path: path.to_string_lossy().into_owned(),
        size_bytes: None,
        format: None,
        verdict: FileVerdict::NotAModel,
        reasons: Vec::new(),
        analysis: Default::default(),
    };
    if let Some(e) = failure {
        f.analysis.error = Some(e);
        return f;
    }
    f.size_bytes = std::fs::metadata(path).ok().map(|m| m.len());
    match recognise(path) {
        Ok(Some(format)) => {
            f.analysis = analyse(path, &format, rules);
            f.format = Some(format);
        }
        Ok(None) => {}
        Err(e) => f.analysis.error = Some(format!("cannot read: {e}")),
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_skips_symlinks_and_keeps_name_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        std::fs::create_dir(d.join("sub")).expect("mkdir");
        std::fs::write(d.join("b.bin"), b"x").expect("write");
        std::fs::write(d.join("sub/a.bin"), b"x").expect("write");
        std::os::unix::fs::symlink("/etc/passwd", d.join("link")).expect("symlink");
        let mut files = Vec::new();
        let mut notes = Vec::new();
        collect(d, &mut files, &mut notes);
        let names: Vec<String> = files
            .iter()
            .map(|r| match r {
                Ok(p) => p.strip_prefix(d).expect("below").display().to_string(),
                Err((p, e)) => format!("{}: {e}", p.display()),
            })
            .collect();
        assert_eq!(names, ["b.bin", "sub/a.bin"]);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("symlink not followed"), "{notes:?}");
    }

    #[test]
    fn protocol_zero_pickles_are_walked_when_named_as_pickles() {
        let rules = PickleRules::embedded().expect("rules");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pickle");
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::write(tmp.path().join("notes.pkl"), "just text\n").expect("write");
        std::fs::write(tmp.path().join("notes.txt"), "just text\n").expect("write");
        let r = scan_paths(
            &[
                dir.join("os_system_p0.pkl"),
                dir.join("plain_p0.pkl"),
                tmp.path().join("notes.pkl"),
                tmp.path().join("notes.txt"),
            ],
            &rules,
        );
        use crate::model::pickle::PickleVerdict::*;
        let verdicts: Vec<_> = r
            .files
            .iter()
            .map(|f| {
                f.analysis
                    .pickle
                    .as_ref()
                    .map(crate::rules::pickle::verdict)
            })
            .collect();
        assert_eq!(
            verdicts,
            [Some(Dangerous), Some(Safe), Some(Unparseable), None],
            "{r:#?}"
        );
    }

    #[test]
    fn missing_path_is_a_per_file_error() {
        let rules = PickleRules::embedded().expect("rules");
        let r = scan_paths(&[PathBuf::from("/nonexistent/aiposture-scan")], &rules);
        assert_eq!(r.files.len(), 1);
        assert!(r.files[0].analysis.error.is_some(), "{r:?}");
    }
}
