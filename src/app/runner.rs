//! One observation: collect, judge, watch, remember. Shared by the dashboard
//! and `aiposture watch`, so both see and record the same events.

use std::time::Duration;

use crate::collect::Collector;
use crate::collect::watch::{self, Watcher};
use crate::error::Error;
use crate::model::Snapshot;
use crate::rules;
use crate::timeline::Timeline;

use super::baseline;

pub struct Runner {
    collector: Collector,
    timeline: Timeline,
    /// The baseline snapshot drift is judged against (`[baseline] path`),
    /// re-read when its file changes.
    baseline: baseline::Reader,
    watcher: Option<Watcher>,
    /// Why watching is off, when it was asked for and failed.
    watch_error: Option<String>,
}

impl Runner {
    /// `baseline`: the baseline file (`None`: no baseline). `debounce`: `None`
    /// turns watching off; `wake` is called from the watcher's thread when
    /// something watched changed.
    pub fn new(
        collector: Collector,
        timeline: Timeline,
        baseline: Option<std::path::PathBuf>,
        debounce: Option<Duration>,
        wake: impl Fn() + Send + 'static,
    ) -> Runner {
        let (watcher, watch_error) = match debounce.map(|d| Watcher::new(d, wake)) {
            Some(Ok(w)) => (Some(w), None),
            Some(Err(e)) => (None, Some(format!("inotify unavailable: {e}"))),
            None => (None, None),
        };
        Runner {
            collector,
            timeline,
            baseline: baseline::Reader::new(baseline),
            watcher,
            watch_error,
        }
    }

    pub fn step(&mut self) -> Result<Snapshot, Error> {
        let inv = self.collector.collect()?;
        let mut extra = Vec::new();
        let mut status = None;
        if let Some(w) = self.watcher.as_mut() {
            w.sync(&watch::wanted(&inv));
            extra = w.drain(&inv.host.collected_at);
            status = Some(w.status());
        } else if let Some(e) = &self.watch_error {
            status = Some(crate::model::events::WatchStatus {
                errors: vec![e.clone()],
                ..Default::default()
            });
        }
        let mut snap = rules::analyse(inv, self.collector.knowledge());
        rules::baseline::apply(&mut snap, &self.baseline.read());
        self.timeline.observe(&mut snap, extra, status);
        Ok(snap)
    }
}
