//! Knowledge shipped as data in `assets/`, embedded at build time and parsed once.

pub mod advisories;
pub mod audit;
pub mod fingerprints;
pub mod ggml_types;
pub mod licenses;
pub mod network;
pub mod onnx_domains;
pub mod onnx_ops;
pub mod onnx_types;
pub mod pickle_rules;
pub mod policy;
pub mod privacy;
pub mod publishers;
pub mod score;
pub mod signatures;
pub mod template_markers;

pub use signatures::{Signature, Signatures};

use crate::error::Error;

/// Everything shipped in `assets/`, parsed once.
pub struct Knowledge {
    pub signatures: Signatures,
    pub network: network::Network,
    pub fingerprints: fingerprints::Fingerprints,
    pub audit: audit::Audit,
    pub score: score::ScoreModel,
    /// Pickle allow/deny lists (assets/pickle_rules.toml).
    pub pickle: pickle_rules::PickleRules,
    /// OSV advisories: embedded, or the operator's export (`--advisories`).
    pub advisories: advisories::AdvisoryDb,
    /// Telemetry switches, back-ends, tunnels, agents, prompt logs (assets/privacy.toml).
    pub privacy: privacy::Privacy,
    /// The operator's accepted risks (`[[suppress]]` of the config): not shipped
    /// data, set at the edge like `advisories`; empty by default.
    pub suppressions: Vec<crate::model::Suppression>,
}

impl Knowledge {
    pub fn embedded() -> Result<Self, Error> {
        // The advisories (2.3 MB of OSV JSON) take as long to parse as all the
        // rest together (regexes compiled, TOML read): on a second core, start-up
        // waits for the longer of the two, not their sum.
        std::thread::scope(|scope| {
            let advisories = scope.spawn(advisories::AdvisoryDb::embedded);
            let rest = Self::without_advisories();
            let advisories = advisories.join().map_err(|_| Error::Asset {
                path: "assets/advisories".into(),
                message: "parsing them panicked".into(),
            })??;
            rest.map(|k| Knowledge { advisories, ..k })
        })
    }

    fn without_advisories() -> Result<Self, Error> {
        Ok(Knowledge {
            signatures: Signatures::embedded()?,
            network: network::Network::embedded()?,
            fingerprints: fingerprints::Fingerprints::embedded()?,
            audit: audit::Audit::embedded()?,
            score: score::ScoreModel::embedded()?,
            pickle: pickle_rules::PickleRules::embedded()?,
            advisories: advisories::AdvisoryDb::default(),
            privacy: privacy::Privacy::embedded()?,
            suppressions: Vec::new(),
        })
    }
}
