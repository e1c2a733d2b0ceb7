//! Write a whole file or nothing: a temp file in the target directory, synced,
//! then renamed over the target. A crash or a full disk never leaves half a report.
//!
//! Only a regular file (or a path that does not exist yet) is replaced by rename.
//! A device or FIFO (`-o /dev/null`, a pipe) is written in place — renaming over
//! it would destroy the node — and a symlink is followed to the file it names.

use std::io::Write;
use std::path::Path;

use crate::error::Error;

/// Name of the temp file beside the target: hidden, and never a name an
/// export or a state file has, so a reader of `*.prom`/`*.json` never takes it.
pub const TEMP_PREFIX: &str = ".aiposture-";
pub const TEMP_SUFFIX: &str = ".tmp";

pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_atomic_mode(path, bytes, None)
}

/// As `write_atomic`, the new file with these permission bits (`None`: the
/// temp file's 0600). Set before the rename, so the target is never readable
/// by fewer (or more) users than asked for.
pub fn write_atomic_mode(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<(), Error> {
    let err = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let resolved;
    let path = match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(err)?;
            return f.write_all(bytes).and_then(|_| f.flush()).map_err(err);
        }
        Ok(_) if path.is_symlink() => {
            resolved = std::fs::canonicalize(path).map_err(err)?;
            resolved.as_path()
        }
        _ => path,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)
        .map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    if let Some(mode) = mode {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(err)?;
    }
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("out.json");
        std::fs::write(&target, b"old content that is longer").expect("seed");
        write_atomic(&target, b"new").expect("write");
        assert_eq!(std::fs::read(&target).expect("read"), b"new");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn a_fifo_is_written_in_place_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("pipe");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600))
            .expect("mkfifo");
        let reader_path = fifo.clone();
        let reader = std::thread::spawn(move || std::fs::read(reader_path).expect("read fifo"));
        write_atomic(&fifo, b"through the pipe").expect("write");
        assert_eq!(reader.join().expect("reader"), b"through the pipe");
        let meta = std::fs::symlink_metadata(&fifo).expect("meta");
        assert!(
            meta.file_type().is_fifo(),
            "the FIFO was replaced by a file"
        );
    }

    #[test]
    fn a_symlink_is_followed_and_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let real = dir.path().join("real.json");
        std::fs::write(&real, b"old").expect("seed");
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        write_atomic(&link, b"new").expect("write");
        assert!(link.is_symlink());
        assert_eq!(std::fs::read(&real).expect("read"), b"new");
    }

    #[test]
    fn missing_directory_is_an_error_naming_the_path() {
        let e = write_atomic(Path::new("/nonexistent-aiposture/x.json"), b"x")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("/nonexistent-aiposture/x.json"), "{e}");
    }
}
