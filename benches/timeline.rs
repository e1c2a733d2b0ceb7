//! The diff behind every event, and one observation of the timeline, on the
//! snapshot captured from a real host (tests/fixtures/snapshot-root.json).

use aiposture::model::Snapshot;
use aiposture::rules::diff::diff;
use aiposture::timeline::{Retention, Timeline};

fn main() {
    divan::main();
}

fn fixture() -> Snapshot {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/snapshot-root.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("snapshot")
}

/// The same host a refresh later with its first listener rebound to 0.0.0.0.
fn changed(s: &Snapshot) -> Snapshot {
    let mut n = s.clone();
    let held: Vec<usize> = n
        .inventory
        .servers
        .iter()
        .flat_map(|x| x.sockets.clone())
        .collect();
    if let Some(i) = held.into_iter().find(|&i| {
        n.inventory.sockets[i].is_listener() && !n.inventory.sockets[i].local.addr.is_unspecified()
    }) {
        n.inventory.sockets[i].local.addr = "0.0.0.0".parse().expect("addr");
    }
    n
}

#[divan::bench]
fn diff_unchanged(b: divan::Bencher) {
    let s = fixture();
    b.bench(|| diff(divan::black_box(&s), divan::black_box(&s)));
}

#[divan::bench]
fn diff_one_rebind(b: divan::Bencher) {
    let s = fixture();
    let n = changed(&s);
    b.bench(|| diff(divan::black_box(&s), divan::black_box(&n)));
}

/// One dashboard refresh's history step (diff, SQLite write when something
/// changed), alternating two states so every observation records events.
#[divan::bench]
fn observe_on_disk(b: divan::Bencher) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut t = Timeline::open(Some(dir.path()), Retention::default());
    let states = [fixture(), changed(&fixture())];
    let mut i = 0;
    b.bench_local(|| {
        let mut s = states[i % 2].clone();
        i += 1;
        t.observe(&mut s, Vec::new(), None);
        s
    });
}
