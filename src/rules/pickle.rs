//! What a pickle's imports and its walk amount to: the verdict the model
//! findings, `aiposture scan` and the views all go by.

use crate::model::pickle::{GlobalClass, PickleReport, PickleVerdict};

/// Dangerous wins over unparseable (the unpickler executes opcodes as it reads
/// them, so a stream that breaks later has already run what came before),
/// unparseable (which includes a stream CPython's loaders read two ways) over
/// suspicious, suspicious over benign-library (classes of well-known ML
/// libraries: a fact, not an alarm), that over safe.
pub fn verdict(r: &PickleReport) -> PickleVerdict {
    if r.globals.iter().any(|g| g.class == GlobalClass::Dangerous) {
        PickleVerdict::Dangerous
    } else if r.incomplete.is_some() || !r.anomalies.is_empty() {
        PickleVerdict::Unparseable
    } else if r.globals.iter().any(|g| g.class == GlobalClass::Unknown) {
        PickleVerdict::Suspicious
    } else if r.globals.iter().any(|g| g.class == GlobalClass::Library) {
        PickleVerdict::BenignLibrary
    } else {
        PickleVerdict::Safe
    }
}

/// Records the verdict in the report, for the views and the exports.
pub fn judge(r: &mut PickleReport) {
    r.verdict = Some(verdict(r));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pickle::PickleGlobal;

    fn report(classes: &[GlobalClass], incomplete: bool) -> PickleReport {
        PickleReport {
            verdict: None,
            globals: classes
                .iter()
                .enumerate()
                .map(|(i, c)| PickleGlobal {
                    module: "m".into(),
                    name: format!("n{i}"),
                    offset: i as u64,
                    class: *c,
                    library: None,
                })
                .collect(),
            opcodes: 1,
            protocol: Some(4),
            notes: Vec::new(),
            incomplete: incomplete.then(|| "truncated".into()),
            ..Default::default()
        }
    }

    #[test]
    fn dangerous_wins_then_unparseable_then_suspicious() {
        use GlobalClass::*;
        for (classes, incomplete, want) in [
            (&[][..], false, PickleVerdict::Safe),
            (&[Allowed][..], false, PickleVerdict::Safe),
            (&[Allowed, Unknown][..], false, PickleVerdict::Suspicious),
            (&[Allowed, Library][..], false, PickleVerdict::BenignLibrary),
            (&[Library, Unknown][..], false, PickleVerdict::Suspicious),
            (&[Library][..], true, PickleVerdict::Unparseable),
            (&[Unknown][..], true, PickleVerdict::Unparseable),
            (&[Allowed][..], true, PickleVerdict::Unparseable),
            (&[Unknown, Dangerous][..], true, PickleVerdict::Dangerous),
            (&[Dangerous][..], false, PickleVerdict::Dangerous),
        ] {
            let mut r = report(classes, incomplete);
            assert_eq!(verdict(&r), want, "{classes:?} incomplete {incomplete}");
            judge(&mut r);
            assert_eq!(r.verdict, Some(want));
        }
    }
}
