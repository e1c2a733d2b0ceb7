//! Disk full on export: a tmpfs too small for the snapshot. The export fails
//! with the reason, the file already there is untouched, and no partial file
//! is left behind.

mod support;

use std::process::Command;

use support::*;

#[test]
fn a_full_disk_fails_the_export_and_keeps_the_old_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mnt = dir.path().join("small");
    std::fs::create_dir(&mnt).expect("mkdir");
    let _m = Tmpfs::mount(&mnt, "16k");
    let old = mnt.join("aiposture.json");
    write(&old, "{\"previous\": true}\n");
    let out = Command::new(bin())
        .args([
            "--passive",
            "--no-history",
            "snapshot",
            "--no-hash-wait",
            "--format",
            "json,markdown",
            "--output-dir",
        ])
        .arg(&mnt)
        .output()
        .expect("run snapshot");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "export into a full disk succeeded");
    assert!(err.contains("No space left on device"), "{err}");
    assert_eq!(read(&old), "{\"previous\": true}\n", "the old file changed");
    let left: Vec<String> = std::fs::read_dir(&mnt)
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["aiposture.json"], "partial files left: {left:?}");
}
