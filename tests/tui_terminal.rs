//! The dashboard in a real terminal (a tmux pane): it draws, answers keys, and
//! leaves the terminal as it found it on q and on SIGTERM, SIGINT and SIGHUP.

mod support;

use std::process::Command;
use std::time::Duration;

use support::*;

/// Run the dashboard in a pane; after it exits the shell prints its exit code
/// and the terminal modes, which must be cooked again (icanon, echo).
fn dashboard(cols: u16, rows: u16) -> Tmux {
    let cmd = format!(
        "sh -c '{} --config /dev/null --interval 300ms; echo exit=$?; stty -a'",
        bin()
    );
    Tmux::start(cols, rows, &cmd)
}

fn dashboard_pid(t: &Tmux) -> u32 {
    let mut pid = None;
    wait_until("dashboard process", Duration::from_secs(10), || {
        let out = Command::new("pgrep")
            .args(["-P", &t.pane_pid().to_string(), "-x", "aiposture"])
            .output()
            .expect("pgrep");
        pid = String::from_utf8_lossy(&out.stdout).trim().parse().ok();
        pid.is_some()
    });
    pid.expect("pid")
}

fn assert_restored(t: &Tmux, code: i32) {
    let screen = t.wait_for(&format!("exit={code}"), Duration::from_secs(10));
    assert_eq!(
        t.format("#{alternate_on}"),
        "0",
        "still on the alternate screen"
    );
    let modes = t.wait_for("speed", Duration::from_secs(5));
    let words: Vec<&str> = modes.split_whitespace().collect();
    for mode in ["icanon", "echo", "isig"] {
        assert!(
            words.contains(&mode),
            "{mode} not restored:\n{screen}\n{modes}"
        );
    }
    // From the bytes written, not tmux's screen: after a resize tmux reflows
    // the alternate screen's lines into the restored one (seen once in CI).
    // The shell's line comes after everything the dashboard wrote.
    let exit_line = format!("exit={code}");
    let mut written = Vec::new();
    wait_until(
        "the recording to reach the exit line",
        Duration::from_secs(5),
        || {
            written = t.written();
            String::from_utf8_lossy(&written).contains(&exit_line)
        },
    );
    let leave = b"\x1b[?1049l";
    let last_leave = written
        .windows(leave.len())
        .rposition(|w| w == leave)
        .unwrap_or_else(|| panic!("never left the alternate screen:\n{screen}"));
    let after = String::from_utf8_lossy(&written[last_leave..]);
    assert!(
        !after.contains("AI servers and listeners") && !after.contains("Terminal too"),
        "drew after leaving the alternate screen: {after:?}"
    );
}

/// The screen shows what the shell had before: in a pane never resized,
/// tmux's restored screen is exactly the main screen.
fn assert_nothing_left_on_screen(t: &Tmux) {
    let screen = t.capture();
    assert!(
        !screen.contains("AI servers and listeners"),
        "dashboard left on screen:\n{screen}"
    );
}

#[test]
fn q_quits_and_restores_the_terminal() {
    let t = dashboard(100, 30);
    t.wait_for("AI servers and listeners", Duration::from_secs(20));
    t.keys(&["?"]);
    t.wait_for("Keys — ? or Esc closes", Duration::from_secs(5));
    t.keys(&["Escape"]);
    wait_until("help to close", Duration::from_secs(5), || {
        !t.capture().contains("Keys — ? or Esc closes")
    });
    t.keys(&["q"]);
    assert_restored(&t, 0);
    assert_nothing_left_on_screen(&t);
}

#[test]
fn signals_restore_the_terminal() {
    for (sig, code) in [("TERM", 143), ("INT", 130), ("HUP", 129)] {
        let t = dashboard(100, 30);
        t.wait_for("AI servers and listeners", Duration::from_secs(20));
        let pid = dashboard_pid(&t);
        run_ok(Command::new("kill").args([&format!("-{sig}"), &pid.to_string()]));
        assert_restored(&t, code);
        assert_nothing_left_on_screen(&t);
    }
}

#[test]
fn small_terminal_gets_a_message_then_the_dashboard_after_resize() {
    let t = dashboard(60, 20);
    t.wait_for("Terminal too small", Duration::from_secs(20));
    t.wait_for("60×20", Duration::from_secs(5));
    run_ok(Command::new("tmux").args(["-L", &t.socket, "resize-window", "-x", "100", "-y", "30"]));
    t.wait_for("AI servers and listeners", Duration::from_secs(10));
    t.keys(&["q"]);
    assert_restored(&t, 0);
}

#[test]
fn a_20x5_terminal_and_a_resize_storm_leave_it_drawing_and_restorable() {
    let t = dashboard(20, 5);
    // 20 columns wrap the message; its start is enough.
    t.wait_for("Terminal too", Duration::from_secs(20));
    let pid = dashboard_pid(&t);
    // Resizes faster than a frame, between the smallest and a large terminal.
    for i in 0..60u16 {
        let (x, y) = if i % 2 == 0 {
            (20 + i * 2, 5 + i / 2)
        } else {
            (160, 45)
        };
        run_ok(Command::new("tmux").args([
            "-L",
            &t.socket,
            "resize-window",
            "-x",
            &x.to_string(),
            "-y",
            &y.to_string(),
        ]));
    }
    run_ok(Command::new("tmux").args(["-L", &t.socket, "resize-window", "-x", "120", "-y", "40"]));
    t.wait_for("AI servers and listeners", Duration::from_secs(20));
    assert!(
        std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "the dashboard died in the storm"
    );
    t.keys(&["q"]);
    assert_restored(&t, 0);
}

#[test]
fn a_panic_restores_the_terminal() {
    // The debug build the tests run panics after its first frame when asked to.
    let cmd = format!(
        "sh -c 'AIPOSTURE_TEST_PANIC_AFTER_DRAW=1 {} --config /dev/null; echo exit=$?; stty -a'",
        bin()
    );
    let t = Tmux::start(100, 30, &cmd);
    // Rust's exit code for a panic in main's thread is 101.
    assert_restored(&t, 101);
    let screen = t.capture();
    assert!(
        screen.contains("test panic after the first frame"),
        "{screen}"
    );
}
