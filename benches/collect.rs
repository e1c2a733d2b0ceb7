//! Micro-benchmarks of the collection path. Whole-process figures against peers
//! (`ss -tanp`, `htop`) are in scripts/bench.sh → BENCHMARKS.md.

use aiposture::collect::Collector;
use aiposture::formats::magic::sniff;
use aiposture::knowledge::{Knowledge, Signatures};
use aiposture::model::redact::redact_argv;
use aiposture::rules;
use aiposture::views::export::json;

fn main() {
    divan::main();
}

#[divan::bench]
fn parse_signatures() -> Signatures {
    Signatures::embedded().expect("signatures")
}

#[divan::bench]
fn collect_host(b: divan::Bencher) {
    let c = Collector::new(Knowledge::embedded().expect("knowledge"));
    b.bench(|| c.collect().expect("collect"));
}

#[divan::bench]
fn analyse_and_serialise(b: divan::Bencher) {
    let c = Collector::new(Knowledge::embedded().expect("knowledge"));
    let inv = c.collect().expect("collect");
    b.bench(|| json::to_json(&rules::analyse(inv.clone(), c.knowledge())).expect("json"));
}

#[divan::bench]
fn redact_typical_argv(b: divan::Bencher) {
    let argv: Vec<String> = "/usr/bin/python3 -m vllm.entrypoints.openai.api_server --model /m --api-key sk-123 --host 0.0.0.0 --port 8000 --download-dir https://u:p@h/x?token=1"
        .split(' ')
        .map(String::from)
        .collect();
    let known = vec!["--api-key".to_string()];
    b.bench(|| redact_argv(divan::black_box(&argv), &known));
}

#[divan::bench]
fn sniff_header(b: divan::Bencher) {
    let mut head = vec![0u8; 512];
    head[..8].copy_from_slice(b"GGUF\x03\x00\x00\x00");
    b.bench(|| sniff(divan::black_box(&head)));
}

/// site-packages of the test-deps venv (scripts/test-deps.sh: ~75 distributions
/// written by pip), read uncached: every METADATA's headers. The collector
/// caches a listing per directory identity, so this is the cost of a first
/// refresh or of a refresh after `pip install`.
#[divan::bench]
fn list_site_packages_uncached(b: divan::Bencher) {
    use aiposture::collect::versions::python::list_site_dir;
    let venv = std::env::var_os("AIPOSTURE_PYTHON")
        .map(std::path::PathBuf::from)
        .and_then(|p| p.parent()?.parent().map(|v| v.to_path_buf()))
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").expect("HOME"))
                .join(".cache/aiposture-test/venv")
        });
    let lib = std::fs::read_dir(venv.join("lib"))
        .expect("test-deps venv; run scripts/test-deps.sh")
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("site-packages"))
        .find(|p| p.is_dir())
        .expect("site-packages");
    let shown = lib.to_string_lossy().into_owned();
    let n = list_site_dir(&lib, &shown).expect("listing").dists.len();
    assert!(n > 50, "{n} distributions");
    b.counter(divan::counter::ItemsCount::new(n))
        .bench(|| list_site_dir(&lib, &shown).expect("listing"));
}
