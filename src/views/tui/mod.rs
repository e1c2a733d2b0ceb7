//! The live dashboard. One tokio current-thread runtime drives three sources:
//! key/resize events, collection results and signals. A frame is drawn only when
//! one of them changed something: an idle dashboard costs nothing between refreshes.

pub mod app;
pub mod detail;
pub mod fleet;
pub mod keys;
pub mod panes;
pub mod render;
pub mod rows;
pub mod terminal;
pub mod theme;
pub mod widgets;

use std::time::Duration;

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures_util::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::app::live::{Live, Plan};
use app::App;
use theme::Theme;

pub struct Options {
    pub theme: Theme,
    pub mouse: bool,
    /// What the export key writes, and where (`None`: no directory could be named).
    pub export_formats: Vec<&'static crate::views::export::Format>,
    pub export_dir: Option<std::path::PathBuf>,
}

/// How long a footer message stays.
const TOAST: Duration = Duration::from_secs(8);

/// How the dashboard ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Exit {
    Quit,
    Signal(&'static str),
}

/// Runs the dashboard over the collection cadence `plan` describes.
pub fn run(plan: Plan, opts: Options) -> std::io::Result<Exit> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut term = terminal::setup(opts.mouse)?;
    let result = rt.block_on(event_loop(&mut term, plan, &opts));
    terminal::restore();
    // Dropping the runtime waits for a collection in flight; it is short.
    result
}

/// Writes the shown snapshot in the configured formats off the UI thread; the
/// outcome (paths, or the error: full disk, permission) comes back as a message.
fn start_export(app: &App, opts: &Options, done: mpsc::Sender<String>) {
    let Some(snap) = app.snapshot.clone() else {
        return;
    };
    let formats = opts.export_formats.clone();
    let dir = opts.export_dir.clone();
    tokio::task::spawn_blocking(move || {
        let msg = match dir {
            None => "export failed: no directory ([export] dir, or $XDG_STATE_HOME / $HOME)".into(),
            Some(dir) => match crate::views::export::write_all(&snap, &formats, &dir) {
                Ok(paths) => {
                    log::info!("exported {paths:?}");
                    format!(
                        "exported: {}",
                        paths
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
                Err(e) => {
                    log::warn!("export failed: {e}");
                    format!("export failed: {}", crate::error::chain(&e))
                }
            },
        };
        let _ = done.blocking_send(msg);
    });
}

async fn event_loop(
    term: &mut terminal::Term,
    plan: Plan,
    opts: &Options,
) -> std::io::Result<Exit> {
    let mut app = App::new(plan.interval);
    let mut live = Live::start(plan);
    let mut events = EventStream::new();
    let mut hup = signal(SignalKind::hangup())?;
    let mut term_sig = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;

    term.draw(|f| render::draw(f, &mut app, &opts.theme))?;
    // Debug builds only: lets tests/tui_terminal.rs prove the panic hook
    // restores the terminal. Release builds have no such switch.
    #[cfg(debug_assertions)]
    if std::env::var_os("AIPOSTURE_TEST_PANIC_AFTER_DRAW").is_some() {
        panic!("test panic after the first frame (AIPOSTURE_TEST_PANIC_AFTER_DRAW)");
    }
    let (export_tx, mut export_rx) = mpsc::channel::<String>(4);
    let exit = loop {
        let toast_left = app
            .toast
            .as_ref()
            .map(|(at, _)| TOAST.saturating_sub(at.elapsed()));
        let dirty = tokio::select! {
            msg = export_rx.recv() => match msg {
                Some(m) => {
                    app.toast = Some((std::time::Instant::now(), m));
                    true
                }
                None => false,
            },
            _ = tokio::time::sleep(toast_left.unwrap_or(Duration::from_secs(3600))), if toast_left.is_some() => {
                app.toast = None;
                true
            },
            _ = hup.recv() => break Exit::Signal("SIGHUP"),
            _ = term_sig.recv() => break Exit::Signal("SIGTERM"),
            _ = int.recv() => break Exit::Signal("SIGINT"),
            res = live.results.recv() => match res {
                Some(Ok(snap)) => {
                    let changed = app.snapshot.as_ref() != Some(&snap);
                    app.set_snapshot(snap);
                    changed
                }
                Some(Err(e)) => {
                    app.error = Some(e);
                    true
                }
                None => break Exit::Quit,
            },
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => {
                    let changed = app.on_key(k);
                    if app.export_requested {
                        app.export_requested = false;
                        start_export(&app, opts, export_tx.clone());
                    }
                    if app.refresh_requested {
                        app.refresh_requested = false;
                        live.refresh_now();
                        term.clear()?;
                    }
                    changed
                }
                Some(Ok(Event::Resize(_, _))) => true,
                Some(Ok(_)) => false,
                // stdin closed or unreadable (terminal gone): leave cleanly.
                Some(Err(_)) | None => break Exit::Signal("terminal closed"),
            },
        };
        if app.quit {
            break Exit::Quit;
        }
        if dirty {
            term.draw(|f| render::draw(f, &mut app, &opts.theme))?;
        }
    };
    drop(live);
    Ok(exit)
}
