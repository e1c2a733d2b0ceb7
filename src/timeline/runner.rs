//! One observation: collect, judge, watch, remember. Shared by the dashboard
//! and `aiposture watch`, so both see and record the same events.

use std::time::Duration;

use crate::collect::Collector;
use crate::collect::watch::{self, Watcher};
use crate::error::Error;
use crate::model::Snapshot;
use crate::rules;

use super::Timeline;

pub struct Runner {
    collector: Collector,
    timeline: Timeline,
    watcher: Option<Watcher>,
    /// Why watching is off, when it was asked for and failed.
    watch_error: Option<String>,
}

impl Runner {
    /// `debounce`: `None` turns watching off; `wake` is called from the
    /// watcher's thread when something watched changed.
    pub fn new(
        collector: Collector,
        timeline: Timeline,
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
        rules::baseline::apply(&mut snap, &self.collector.baseline());
        self.timeline.observe(&mut snap, extra, status);
        Ok(snap)
    }
}
