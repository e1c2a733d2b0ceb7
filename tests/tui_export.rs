//! The export key in a real terminal: `e` writes the configured formats and
//! the footer names the files; a directory that cannot be written is an error
//! in the footer and the dashboard keeps running.

mod support;

use std::time::Duration;

use support::*;

fn dashboard(cfg: &std::path::Path) -> Tmux {
    let t = Tmux::start(
        160,
        45,
        &format!(
            "{} --passive --no-history --config {}",
            bin(),
            cfg.display()
        ),
    );
    t.wait_for("AI servers", Duration::from_secs(30));
    t
}

#[test]
fn the_export_key_writes_the_configured_formats_and_says_where() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("exports");
    let cfg = dir.path().join("config.toml");
    write(
        &cfg,
        format!(
            "[export]\ndir = \"{}\"\nformats = [\"json\", \"markdown\", \"prometheus\"]\n",
            out.display()
        ),
    );
    let t = dashboard(&cfg);
    // The first collection must have landed: the header shows a score.
    t.wait_for("score ", Duration::from_secs(30));
    t.keys(&["e"]);
    let screen = t.wait_for("exported:", Duration::from_secs(30));
    for name in ["aiposture.json", "aiposture.md", "aiposture.prom"] {
        let p = out.join(name);
        assert!(screen.contains(name), "{name} not named:\n{screen}");
        assert!(p.exists(), "{} not written", p.display());
    }
    let json: serde_json::Value =
        serde_json::from_str(&read(&out.join("aiposture.json"))).expect("a whole snapshot");
    assert_eq!(json["schema_version"], 2);
    assert!(read(&out.join("aiposture.prom")).contains("aiposture_"));
    // Ctrl-s does the same, and the dashboard is still there to quit.
    std::fs::remove_file(out.join("aiposture.md")).expect("rm");
    t.keys(&["C-s"]);
    wait_until("Ctrl-s export", Duration::from_secs(30), || {
        out.join("aiposture.md").exists()
    });
    t.keys(&["q"]);
    wait_until("dashboard to exit", Duration::from_secs(10), || {
        t.pane_dead()
    });
}

#[test]
fn an_unwritable_export_directory_is_an_error_and_the_dashboard_keeps_running() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A file where the directory should be: not creatable, even as root.
    let blocker = dir.path().join("blocker");
    write(&blocker, "not a directory");
    let cfg = dir.path().join("config.toml");
    write(
        &cfg,
        format!(
            "[export]\ndir = \"{}\"\n",
            blocker.join("exports").display()
        ),
    );
    let t = dashboard(&cfg);
    t.wait_for("score ", Duration::from_secs(30));
    t.keys(&["e"]);
    let screen = t.wait_for("export failed", Duration::from_secs(30));
    assert!(screen.contains("blocker"), "{screen}");
    // Still alive and responsive: the help opens, and q quits.
    t.keys(&["?"]);
    t.wait_for("show or hide this help", Duration::from_secs(10));
    assert!(!t.pane_dead());
    t.keys(&["q"]);
    t.keys(&["q"]);
    wait_until("dashboard to exit", Duration::from_secs(10), || {
        t.pane_dead()
    });
}
