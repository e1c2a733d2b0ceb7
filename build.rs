//! Embeds the advisory set: every `assets/advisories/**/*.json` becomes an
//! `include_str!` entry of `$OUT_DIR/advisories.rs`, so the data stays one
//! reviewable OSV file per record and the binary needs nothing at run time.

use std::path::{Path, PathBuf};

fn main() {
    let root = Path::new("assets/advisories");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(root, &mut files);
    files.sort();
    // The path is completed where the crate compiles (env! of its manifest
    // dir), never baked in here: a target directory shared by two checkouts
    // reuses this output without rerunning the script.
    let mut out = String::from("&[\n");
    for f in &files {
        let rel = f
            .strip_prefix(root)
            .expect("under root")
            .display()
            .to_string();
        out.push_str(&format!(
            "    ({rel:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), {:?}))),\n",
            format!("/{}", f.display())
        ));
    }
    out.push_str("]\n");
    let dest =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("advisories.rs");
    std::fs::write(dest, out).expect("write advisories.rs");
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, files);
        } else if p.extension().is_some_and(|x| x == "json") {
            files.push(p);
        }
    }
}
