//! Posture score weights (`assets/score.toml`).

use serde::Deserialize;

use crate::error::Error;
use crate::model::Severity;

const EMBEDDED: &str = include_str!("../../assets/score.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    schema_version: u32,
    start: u32,
    weights: Weights,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    pub critical: u32,
    pub high: u32,
    pub medium: u32,
    pub low: u32,
    pub info: u32,
}

pub struct ScoreModel {
    pub start: u32,
    pub weights: Weights,
}

impl ScoreModel {
    pub fn embedded() -> Result<Self, Error> {
        let f: File = toml::from_str(EMBEDDED).map_err(|e| Error::Asset {
            path: "assets/score.toml".into(),
            message: e.to_string(),
        })?;
        if f.schema_version != 1 {
            return Err(Error::Asset {
                path: "assets/score.toml".into(),
                message: format!("unsupported schema_version {}", f.schema_version),
            });
        }
        Ok(ScoreModel {
            start: f.start,
            weights: f.weights,
        })
    }

    pub fn weight(&self, s: Severity) -> u32 {
        match s {
            Severity::Critical => self.weights.critical,
            Severity::High => self.weights.high,
            Severity::Medium => self.weights.medium,
            Severity::Low => self.weights.low,
            Severity::Info => self.weights.info,
        }
    }
}
