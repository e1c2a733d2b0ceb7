//! How a change moved the posture, and the severity of each event kind by it
//! (the table in `diff`'s module documentation).

use crate::model::Severity;
use crate::model::events::{Event, EventKind};

/// How a change moved the posture, where that can be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    Worse,
    Neutral,
    Better,
}

/// The severity table of the module documentation.
pub fn severity(kind: EventKind, trend: Trend) -> Severity {
    use EventKind as K;
    use Severity as S;
    use Trend as T;
    match (kind, trend) {
        (K::ServerStarted, T::Worse) => S::Low,
        (K::ListenerAdded, T::Worse) => S::Medium,
        (K::ListenerRebound, T::Worse) => S::Medium,
        (K::ListenerRebound, T::Neutral) => S::Low,
        (K::ExposureChanged, T::Worse) => S::High,
        (K::ExposureChanged, T::Neutral) => S::Medium,
        (K::ExposureChanged, T::Better) => S::Low,
        (K::AuthChanged, T::Worse) => S::High,
        (K::AuthChanged, T::Neutral) => S::Medium,
        (K::ModelAdded, _) => S::Low,
        (K::ModelChanged | K::TemplateChanged, _) => S::High,
        (K::VersionChanged, _) => S::Low,
        (K::EgressNew, T::Worse) => S::Medium,
        (K::EgressNew, _) => S::Low,
        (K::TelemetryChanged, T::Worse) => S::Medium,
        (K::TelemetryChanged, T::Neutral) => S::Low,
        (K::FileChanged, _) => S::Low,
        _ => S::Info,
    }
}

/// One event with the trend it was judged by (the drift findings need it).
#[derive(Debug, Clone)]
pub struct Judged {
    pub event: Event,
    pub trend: Trend,
}
