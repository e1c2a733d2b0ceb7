//! Dashboard rendering on ratatui's TestBackend, from snapshots captured on a
//! real host (tests/fixtures, see README there): layout at 80×24 and 120×40,
//! both themes, overlays, and the too-small screen.

use aiposture::model::Snapshot;
use aiposture::views::tui::app::App;
use aiposture::views::tui::render;
use aiposture::views::tui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use std::time::Duration;

fn fixture(name: &str) -> Snapshot {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("fixture");
    serde_json::from_str(&text).expect("fixture parses as the current schema")
}

fn app_with(name: &str, keys: &[KeyCode]) -> App {
    let mut app = App::new(Duration::from_secs(2));
    app.set_snapshot(fixture(name));
    for k in keys {
        app.on_key(KeyEvent::new(*k, KeyModifiers::NONE));
    }
    app
}

fn render(app: &mut App, theme: &str, w: u16, h: u16) -> Buffer {
    let theme = Theme::load(theme, false).expect("theme");
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    term.draw(|f| render::draw(f, app, &theme)).expect("draw");
    term.backend().buffer().clone()
}

fn text(buf: &Buffer) -> String {
    let w = buf.area.width as usize;
    buf.content
        .chunks(w)
        .map(|row| {
            row.iter()
                .map(|c| c.symbol())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn servers_view_in_both_sizes_and_themes() {
    for (w, h) in [(80, 24), (120, 40)] {
        for theme in ["default", "mono"] {
            let buf = render(&mut app_with("snapshot-root.json", &[]), theme, w, h);
            insta::assert_snapshot!(format!("root_{w}x{h}_{theme}"), text(&buf));
        }
    }
}

#[test]
fn exposure_is_coloured_in_default_and_plain_in_mono() {
    let cell_fg = |theme: &str| {
        let mut app = app_with("snapshot-root.json", &[]);
        let rows = app.rows(aiposture::views::tui::rows::Pane::Servers);
        let wild = rows
            .iter()
            .position(|r| r.cells[4].starts_with("LAN"))
            .expect("a LAN-reachable row in the fixture");
        // Select another row: the selection style would mask the exposure colour.
        let key = if wild == 0 {
            KeyCode::Down
        } else {
            KeyCode::Home
        };
        app.on_key(KeyEvent::new(key, KeyModifiers::NONE));
        let buf = render(&mut app, theme, 120, 40);
        let w = buf.area.width as usize;
        let row = buf
            .content
            .chunks(w)
            .position(|r| {
                let line = r.iter().map(|c| c.symbol()).collect::<String>();
                line.contains(" LAN") && line.contains("/tcp")
            })
            .expect("LAN row on screen");
        let line: Vec<&str> = buf.content[row * w..(row + 1) * w]
            .iter()
            .map(|c| c.symbol())
            .collect();
        let col = line
            .windows(4)
            .position(|s| s.concat() == " LAN")
            .expect("column")
            + 1;
        buf.content[row * w + col].fg
    };
    assert_eq!(cell_fg("default"), Color::Red);
    assert_eq!(cell_fg("mono"), Color::Reset);
}

#[test]
fn finding_detail_shows_evidence_and_remediation() {
    // Tab to findings, filter to the exposure finding, Enter for the full-screen detail.
    let mut keys = vec![KeyCode::Tab, KeyCode::Char('/')];
    keys.extend("without auth".chars().map(KeyCode::Char));
    keys.extend([KeyCode::Enter, KeyCode::Enter]);
    let mut app = app_with("snapshot-root.json", &keys);
    let t = text(&render(&mut app, "default", 120, 40));
    assert!(t.contains("Evidence"), "{t}");
    assert!(t.contains("Remediation"), "{t}");
    assert!(t.contains("/net/tcp"), "{t}");
    insta::assert_snapshot!("finding_detail_120x40", t);
}

#[test]
fn unprivileged_blind_spots_are_listed() {
    let mut app = app_with("snapshot-nobody.json", &[KeyCode::Tab, KeyCode::Tab]);
    let t = text(&render(&mut app, "default", 80, 24));
    assert!(t.contains("Blind spots ("), "{t}");
    assert!(t.contains("Not seen:"), "{t}");
    insta::assert_snapshot!("blind_spots_80x24", t);
}

#[test]
fn help_overlay_lists_every_binding() {
    let mut app = app_with("snapshot-root.json", &[KeyCode::Char('?')]);
    let t = text(&render(&mut app, "default", 80, 24));
    for b in aiposture::views::tui::keys::BINDINGS {
        assert!(t.contains(b.label), "{} missing from help:\n{t}", b.label);
    }
    insta::assert_snapshot!("help_80x24", t);
}

#[test]
fn too_small_terminal_says_so() {
    let mut app = app_with("snapshot-root.json", &[]);
    let t = text(&render(&mut app, "default", 60, 20));
    assert!(t.contains("Terminal too small"), "{t}");
    assert!(t.contains("60×20"), "{t}");
    let t = text(&render(&mut app, "default", 20, 5));
    assert!(t.contains("Terminal too"), "{t}");
}

#[test]
fn filter_narrows_rows_and_esc_clears_it() {
    let snap = fixture("snapshot-root.json");
    let pid = snap.inventory.servers[0].pid.to_string();
    let mut app = App::new(Duration::from_secs(2));
    app.set_snapshot(snap);
    let all = app.rows(aiposture::views::tui::rows::Pane::Servers).len();
    app.on_key(KeyEvent::new(KeyCode::Char('/'), KeyModifiers::NONE));
    for c in pid.chars() {
        app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    let rows = app.rows(aiposture::views::tui::rows::Pane::Servers);
    assert!(
        !rows.is_empty() && rows.len() < all,
        "{} of {all}",
        rows.len()
    );
    assert!(rows.iter().all(|r| r.cells[1] == pid));
    app.on_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert_eq!(
        app.rows(aiposture::views::tui::rows::Pane::Servers).len(),
        all
    );
}

#[test]
fn models_pane_lists_loaded_models_with_their_header_facts() {
    let mut app = app_with(
        "snapshot-root.json",
        &[KeyCode::Tab, KeyCode::Tab, KeyCode::Tab],
    );
    let t = text(&render(&mut app, "default", 120, 40));
    assert!(t.contains("Models ("), "{t}");
    assert!(t.contains("tiny-llama.gguf"), "{t}");
    app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    let t = text(&render(&mut app, "default", 120, 40));
    assert!(t.contains("architecture: llama"), "{t}");
    assert!(t.contains("chat template: sha256"), "{t}");
}

#[test]
fn models_pane_columns_follow_the_width() {
    let mut app = app_with(
        "snapshot-root.json",
        &[KeyCode::Tab, KeyCode::Tab, KeyCode::Tab],
    );
    let wide = text(&render(&mut app, "mono", 160, 40));
    for col in [
        "state",
        "file or reference",
        "format",
        "size",
        "used by",
        "provenance",
        "integrity",
    ] {
        assert!(wide.contains(col), "{col} missing:\n{wide}");
    }
    assert!(wide.contains("GGUF v3"), "{wide}");
    assert!(wide.contains("llama_server"), "{wide}");
    let narrow = text(&render(&mut app, "mono", 80, 24));
    assert!(
        narrow.contains("format") && !narrow.contains("provenance"),
        "{narrow}"
    );
    insta::assert_snapshot!("models_160x40", wide);
}

/// The model detail shows where the model came from and the policy's decision,
/// after the rules ran on the captured inventory with a policy approving its publisher.
#[test]
fn model_detail_shows_provenance_and_decision_trail() {
    use aiposture::model::policy::{Approval, PolicyStatus};
    let snap = fixture("snapshot-root.json");
    let mut inv = snap.inventory;
    inv.policy = PolicyStatus::Loaded {
        path: "/etc/aiposture/policy.toml".into(),
        approvals: vec![Approval {
            line: 4,
            sha256: None,
            publisher: Some("aiposture tests".into()),
            repo: None,
            origin_country: None,
            jurisdictions: Vec::new(),
            reason: "fixture model".into(),
            approver: "alice".into(),
            date: "2026-01-01".into(),
            expires: None,
        }],
    };
    let knowledge = aiposture::knowledge::Knowledge::embedded().expect("knowledge");
    let mut app = App::new(Duration::from_secs(2));
    app.set_snapshot(aiposture::rules::analyse(inv, &knowledge));
    for k in [KeyCode::Tab, KeyCode::Tab, KeyCode::Tab] {
        app.on_key(KeyEvent::new(k, KeyModifiers::NONE));
    }
    // Approved models read "ok" in the list; the detail says by what.
    let t = text(&render(&mut app, "default", 160, 40));
    assert!(
        t.lines()
            .any(|l| l.contains("tiny-llama.gguf") && l.contains("ok")),
        "{t}"
    );
    app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    let t = text(&render(&mut app, "default", 160, 40));
    assert!(
        t.contains(
            "provenance: aiposture tests (GGUF v3 general.organization (claimed by the file))"
        ),
        "{t}"
    );
    assert!(
        t.contains(
            "policy: approved by /etc/aiposture/policy.toml:4 (publisher \"aiposture tests\")"
        ),
        "{t}"
    );
}

/// With a policy that approves nothing, the models list marks loaded models
/// "unappr." where their content is otherwise fine.
#[test]
fn models_list_marks_unapproved_models() {
    use aiposture::model::policy::PolicyStatus;
    let mut inv = fixture("snapshot-root.json").inventory;
    inv.policy = PolicyStatus::Loaded {
        path: "/etc/aiposture/policy.toml".into(),
        approvals: vec![],
    };
    let knowledge = aiposture::knowledge::Knowledge::embedded().expect("knowledge");
    let mut app = App::new(Duration::from_secs(2));
    app.set_snapshot(aiposture::rules::analyse(inv, &knowledge));
    for k in [KeyCode::Tab, KeyCode::Tab, KeyCode::Tab] {
        app.on_key(KeyEvent::new(k, KeyModifiers::NONE));
    }
    let t = text(&render(&mut app, "default", 160, 40));
    assert!(
        t.lines()
            .any(|l| l.contains("tiny-llama.gguf") && l.contains("unappr.")),
        "{t}"
    );
}

#[test]
fn patch_pane_lists_components_with_data_age() {
    let mut app = app_with(
        "snapshot-root.json",
        &[KeyCode::Tab, KeyCode::Tab, KeyCode::Tab, KeyCode::Tab],
    );
    let t = text(&render(&mut app, "mono", 160, 40));
    assert!(t.contains("Patch status ("), "{t}");
    assert!(t.contains("advisories: embedded"), "{t}");
    assert!(t.contains("days old"), "{t}");
    assert!(t.contains("llama_server"), "{t}");
    app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    let t = text(&render(&mut app, "mono", 160, 40));
    assert!(t.contains("read from"), "{t}");
    insta::assert_snapshot!("patch_160x40", t);
}

#[test]
fn privacy_pane_verdict_first_then_processes() {
    let tabs = [KeyCode::Tab; 5];
    let mut app = app_with("snapshot-root.json", &tabs);
    assert_eq!(app.pane, aiposture::views::tui::rows::Pane::Privacy);
    let buf = render(&mut app, "default", 120, 40);
    let screen = text(&buf);
    assert!(screen.contains("air-gap verdict"), "{screen}");
    insta::assert_snapshot!("privacy_120x40", screen);
    // The process behind the first row after the verdict, in full.
    app.on_key(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE));
    app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    let buf = render(&mut app, "default", 120, 40);
    insta::assert_snapshot!("privacy_detail_120x40", text(&buf));
}

#[test]
fn suppressed_findings_are_hidden_until_z_and_shown_muted_with_their_reason() {
    use aiposture::model::{SuppressedFinding, SuppressionRef};
    use aiposture::views::tui::rows::{Item, Pane};
    // The fixtures hold no suppression: accept the exposure finding by hand.
    let mut snap = fixture("snapshot-root.json");
    let i = snap
        .findings
        .iter()
        .position(|f| f.title.contains("without auth"))
        .expect("an exposure finding in the fixture");
    let finding = snap.findings.remove(i);
    let title = finding.title.clone();
    snap.suppressed.push(SuppressedFinding {
        finding,
        suppression: SuppressionRef {
            index: 0,
            origin: "/etc/aiposture/config.toml:42".into(),
            rule: "exposure.unauthenticated-listener".into(),
            reason: "lab box on an isolated VLAN".into(),
            owner: "alice".into(),
            expires: "2026-09-30".into(),
            ticket: Some("SEC-142".into()),
            matched_on: "rule exposure.unauthenticated-listener, listener 0.0.0.0:8080/tcp".into(),
        },
    });
    let active = snap.findings.len();
    let mut app = App::new(Duration::from_secs(2));
    app.set_snapshot(snap);
    app.on_key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
    assert_eq!(app.rows(Pane::Findings).len(), active);
    let t = text(&render(&mut app, "default", 120, 40));
    assert!(
        t.contains("info │ 1 suppressed │ 1 blind spot"),
        "header count: {t}"
    );
    assert!(t.contains("+ 1 suppressed (z: show)"), "{t}");
    assert!(!t.contains("suppr."), "{t}");

    app.on_key(KeyEvent::new(KeyCode::Char('z'), KeyModifiers::NONE));
    app.on_key(KeyEvent::new(KeyCode::End, KeyModifiers::NONE));
    let rows = app.rows(Pane::Findings);
    assert_eq!(rows.len(), active + 1);
    assert_eq!(app.selected_item(), Some(Item::Suppressed(0)));
    let buf = render(&mut app, "default", 120, 40);
    let t = text(&buf);
    for want in [
        "+ 1 suppressed (z: hide)",
        "SUPPRESSED until 2026-09-30",
        "reason: lab box on an isolated VLAN",
        "owner: alice",
        "ticket: SEC-142",
        "/etc/aiposture/config.toml:42",
    ] {
        assert!(t.contains(want), "{want} missing:\n{t}");
    }
    // The row is marked and muted; the selection's style is not what is asserted.
    app.on_key(KeyEvent::new(KeyCode::Home, KeyModifiers::NONE));
    let buf = render(&mut app, "default", 120, 40);
    let w = buf.area.width as usize;
    let line = buf
        .content
        .chunks(w)
        .position(|row| {
            let s: String = row.iter().map(|c| c.symbol()).collect();
            s.contains("suppr.") && s.contains(&title[..title.len().min(30)])
        })
        .expect("a suppressed row");
    let muted = Theme::load("default", false).expect("theme").muted;
    let row = &buf.content[line * w..(line + 1) * w];
    let at = row
        .iter()
        .position(|c| c.symbol() == "s")
        .expect("marker cell");
    assert_eq!(row[at].fg, muted, "suppressed row not muted");
    app.on_key(KeyEvent::new(KeyCode::End, KeyModifiers::NONE));
    insta::assert_snapshot!(
        "findings_suppressed_120x40",
        text(&render(&mut app, "default", 120, 40))
    );

    app.on_key(KeyEvent::new(KeyCode::Char('z'), KeyModifiers::NONE));
    assert_eq!(app.rows(Pane::Findings).len(), active);
    assert!(app.selected(Pane::Findings) < active, "selection clamped");
}

#[test]
fn events_pane_lists_newest_first_and_jumps_to_the_subject() {
    use aiposture::model::Evidence;
    use aiposture::model::Severity;
    use aiposture::model::events::{Event, EventKind, EventSubject, TimelineView};
    use aiposture::views::tui::rows::Pane;
    let mut snap = fixture("snapshot-root.json");
    let srv = &snap.inventory.servers[0];
    let (product, pid) = (srv.product_id.clone(), srv.pid);
    let event = |time: &str, kind, before: &str, after: &str| Event {
        time: time.into(),
        kind,
        severity: Severity::High,
        subject: EventSubject {
            product: Some(product.clone()),
            pid: Some(pid),
            listener: Some(after.into()),
            ..Default::default()
        },
        before: Some(before.into()),
        after: Some(after.into()),
        evidence: vec![Evidence::new(
            aiposture::model::Source::record("old snapshot"),
            before,
        )],
    };
    snap.timeline = Some(TimelineView {
        store: "/var/lib/x/timeline.sqlite3".into(),
        recent: vec![
            event(
                "2026-11-20T14:02:05Z",
                EventKind::ListenerRebound,
                "127.0.0.1:8080/tcp",
                "0.0.0.0:8080/tcp",
            ),
            event(
                "2026-11-20T13:00:00Z",
                EventKind::ServerStarted,
                "",
                "started",
            ),
        ],
        ..Default::default()
    });
    let mut app = App::new(Duration::from_secs(2));
    app.set_snapshot(snap);
    for _ in 0..6 {
        app.on_key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
    }
    assert_eq!(app.pane, Pane::Events);
    let screen = text(&render(&mut app, "default", 120, 40));
    let rebound = screen.find("listener_rebound").expect("rebound row");
    let started = screen.find("server_started").expect("started row");
    assert!(rebound < started, "newest first:\n{screen}");
    assert!(screen.contains("11-20 14:02:05"), "{screen}");
    // Jump: the Servers pane, filtered to the listener.
    app.on_key(KeyEvent::new(KeyCode::Char('o'), KeyModifiers::NONE));
    assert_eq!(app.pane, Pane::Servers);
    assert_eq!(app.filter(Pane::Servers), "0.0.0.0:8080/tcp");
}
