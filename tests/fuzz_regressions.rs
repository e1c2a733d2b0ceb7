//! Inputs that made a fuzz target crash (`scripts/fuzz.sh`), kept as they were
//! found under tests/fixtures/fuzz/<target>/: each must now get an answer (a
//! parse or an error), never a panic. Test builds check integer overflow, as the
//! fuzz builds do.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

use aiposture::formats::hdf5::{parse_hdf5_prefix, signature_offset};

#[path = "../fuzz/kernel_shape.rs"]
mod kernel_shape;

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz")
        .join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| {
            let bytes = std::fs::read(e.path()).expect("read input");
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no inputs in {}", dir.display());
    out
}

/// A global heap address near the top of the address space (found by the
/// `hdf5` target): the offset arithmetic overflowed.
#[test]
fn hdf5_crash_inputs_get_an_answer() {
    for (name, bytes) in inputs("hdf5") {
        let _ = signature_offset(&bytes);
        let parsed = parse_hdf5_prefix(&bytes);
        eprintln!(
            "{name}: {:?}",
            parsed.as_ref().map(|_| "parsed").map_err(|e| e.to_string())
        );
    }
}

/// The `proc_text` target found that procfs's stat parser panics when the bytes
/// before `(` are not ASCII. The kernel prints the pid there, so what a local
/// user controls is the name between the parentheses: a real process renamed to
/// non-UTF-8 bytes with `)`, `(` and spaces in them must not stop a snapshot.
#[test]
fn a_process_named_with_hostile_bytes_does_not_stop_a_collection() {
    // comm is the executable's file name (first 15 bytes): any bytes but '/'.
    let dir = tempfile::tempdir().expect("tempdir");
    let hostile: &[u8] = b"\xca\xc9) (R 1\xc8\xd7)";
    let exe = dir.path().join(std::ffi::OsStr::from_bytes(hostile));
    std::fs::copy("/bin/sleep", &exe).expect("copy sleep");
    let mut child = Command::new(&exe)
        .arg("30")
        .stdout(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("start the renamed sleep");
    let pid = child.id();
    let stat = std::fs::read(format!("/proc/{pid}/stat")).expect("read stat");
    assert!(
        stat.windows(4).any(|w| w == b"\xca\xc9) "),
        "the kernel did not keep the name: {}",
        String::from_utf8_lossy(&stat)
    );
    let bin = env!("CARGO_BIN_EXE_aiposture");
    let out = Command::new(bin)
        .args([
            "--passive",
            "--no-history",
            "--config",
            "/dev/null",
            "snapshot",
            "--no-hash-wait",
        ])
        .output()
        .expect("run snapshot");
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snap: serde_json::Value = serde_json::from_slice(&out.stdout).expect("snapshot JSON");
    assert!(snap["inventory"]["processes_seen"].as_u64().unwrap_or(0) > 1);
}

/// The `proc_text` crash inputs, given the kernel's shape as the target now does
/// (`PID (NAME) R NUMBERS`, see fuzz/fuzz_targets/proc_text.rs): an error or a parse.
#[test]
fn the_proc_text_crashes_in_the_kernel_shape_get_an_answer() {
    use procfs::FromRead;
    for (name, bytes) in inputs("proc_text") {
        let body = &bytes[1..];
        let shaped = kernel_shape::kernel_stat(body);
        let parsed = procfs::process::Stat::from_read(&shaped[..]);
        eprintln!("{name}: {:?}", parsed.map(|s| s.comm));
    }
}
