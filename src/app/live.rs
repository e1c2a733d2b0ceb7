//! The one collection cadence, shared by the dashboard and `aiposture watch`: a
//! step every interval, at once when asked (Ctrl-l), or early when the file
//! watcher saw a change. Each step runs on a blocking thread; its snapshot (or
//! why it failed) comes back over a channel.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use super::runner::Runner;
use crate::collect::Collector;
use crate::model::Snapshot;
use crate::timeline::Timeline;

/// A step's outcome: the snapshot, or why the collection failed.
pub type CollectResult = Result<Snapshot, String>;

/// What a live run is made of.
pub struct Plan {
    pub collector: Collector,
    pub timeline: Timeline,
    /// The baseline file drift is judged against (`None`: no baseline).
    pub baseline: Option<PathBuf>,
    /// Debounce of the file watcher; `None`: no watching.
    pub watch: Option<Duration>,
    pub interval: Duration,
}

/// A running cadence. Dropping it stops the loop (a step in flight finishes).
pub struct Live {
    pub results: mpsc::Receiver<CollectResult>,
    refresh: Arc<Notify>,
    task: JoinHandle<()>,
}

impl Live {
    /// Starts the loop on the current tokio runtime; the first step begins at once.
    pub fn start(plan: Plan) -> Live {
        let (tx, results) = mpsc::channel::<CollectResult>(1);
        let refresh = Arc::new(Notify::new());
        let wake = Arc::clone(&refresh);
        let runner = Runner::new(
            plan.collector,
            plan.timeline,
            plan.baseline,
            plan.watch,
            move || wake.notify_one(),
        );
        let task = tokio::spawn(cadence(
            Arc::new(Mutex::new(runner)),
            plan.interval,
            tx,
            Arc::clone(&refresh),
        ));
        Live {
            results,
            refresh,
            task,
        }
    }

    /// The next step starts now instead of at the end of the interval;
    /// several requests before it starts are one step.
    pub fn refresh_now(&self) {
        self.refresh.notify_one();
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn cadence(
    runner: Arc<Mutex<Runner>>,
    interval: Duration,
    tx: mpsc::Sender<CollectResult>,
    now: Arc<Notify>,
) {
    loop {
        let r = Arc::clone(&runner);
        let result = tokio::task::spawn_blocking(move || {
            // A poisoned lock only means an earlier step panicked; the runner's
            // state is plain data and stays usable.
            let mut r = r.lock().unwrap_or_else(|p| p.into_inner());
            r.step().map_err(|e| e.to_string())
        })
        .await
        .unwrap_or_else(|e| Err(format!("collection crashed: {e}")));
        match &result {
            Ok(s) => log::debug!(
                "refresh: {} servers, {} sockets, {} findings, {} blind spots in {} ms",
                s.inventory.servers.len(),
                s.inventory.sockets.len(),
                s.findings.len(),
                s.inventory.blind_spots.len(),
                s.inventory.host.collection_ms
            ),
            Err(e) => log::warn!("collection failed: {e}"),
        }
        if tx.send(result).await.is_err() {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = now.notified() => {}
        }
    }
}
