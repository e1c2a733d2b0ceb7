//! HTTP fingerprints for loopback probes (`assets/fingerprints.toml`).

use serde::Deserialize;

use crate::error::Error;

const EMBEDDED: &str = include_str!("../../assets/fingerprints.toml");

/// At most this many GETs per server per round, whatever the asset lists.
pub const MAX_REQUESTS: usize = 5;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    schema_version: u32,
    products: Vec<Fingerprint>,
    generic: Fingerprint,
}

/// Id of the generic round (`[generic]`), sent to listeners no product
/// fingerprint speaks for.
pub const GENERIC: &str = "generic";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fingerprint {
    pub id: String,
    pub status: String,
    pub source: String,
    pub requests: Vec<String>,
    pub markers: Vec<Marker>,
    #[serde(default)]
    pub version: Option<JsonField>,
    pub auth: AuthProbe,
    #[serde(default)]
    pub open_with_auth: Vec<String>,
    /// Public answers that show anyone can let themselves in.
    #[serde(default)]
    pub self_grant: Vec<SelfGrant>,
}

/// A fact in a product's public, unauthenticated answer that means anyone who
/// reaches it can get in: the JSON value at `json` in the answer to `path`
/// equals `equals`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfGrant {
    pub path: String,
    pub json: String,
    pub equals: serde_json::Value,
    /// What it means, for the finding: "no account exists yet: …".
    pub means: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Marker {
    pub path: String,
    #[serde(default)]
    pub header: Option<String>,
    #[serde(default)]
    pub contains: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
}

impl Marker {
    /// Short name for evidence, e.g. `header server ~ llama.cpp`.
    pub fn describe(&self) -> String {
        match (&self.header, &self.contains, &self.body) {
            (Some(h), Some(c), _) => format!("GET {} header {h} contains {c:?}", self.path),
            (_, _, Some(b)) => format!("GET {} body contains {b:?}", self.path),
            _ => format!("GET {}", self.path),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonField {
    pub path: String,
    pub json: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthProbe {
    pub path: String,
    #[serde(default)]
    pub list: Option<String>,
}

pub struct Fingerprints {
    pub products: Vec<Fingerprint>,
    /// For a helper's port, or a product without a fingerprint of its own.
    pub generic: Fingerprint,
}

impl Fingerprints {
    pub fn embedded() -> Result<Self, Error> {
        Self::parse(EMBEDDED)
    }

    pub fn parse(text: &str) -> Result<Self, Error> {
        let bad = |message: String| Error::Asset {
            path: "assets/fingerprints.toml".into(),
            message,
        };
        let f: File = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        if f.schema_version != 1 {
            return Err(bad(format!(
                "unsupported schema_version {}",
                f.schema_version
            )));
        }
        for p in &f.products {
            let valid_marker =
                |m: &Marker| (m.header.is_some() && m.contains.is_some()) != m.body.is_some();
            if p.source.is_empty() || p.markers.is_empty() || !p.markers.iter().all(valid_marker) {
                return Err(bad(format!(
                    "{}: needs a source and markers of the form {{path, header, contains}} or {{path, body}}",
                    p.id
                )));
            }
            if !p
                .requests
                .iter()
                .chain(&p.open_with_auth)
                .all(|r| r.starts_with('/'))
            {
                return Err(bad(format!("{}: request paths must start with /", p.id)));
            }
            // A self-grant fact is read only from an answer the round asks for.
            if let Some(g) = p
                .self_grant
                .iter()
                .find(|g| !p.round().contains(&g.path) || g.means.is_empty())
            {
                return Err(bad(format!(
                    "{}: self_grant on {} needs a path among the round's first {MAX_REQUESTS} requests and a `means`",
                    p.id, g.path
                )));
            }
        }
        let g = &f.generic;
        if g.id != GENERIC
            || g.source.is_empty()
            || g.requests.is_empty()
            || !g.requests.iter().all(|r| r.starts_with('/'))
        {
            return Err(bad(format!(
                "[generic]: needs id = {GENERIC:?}, a source and request paths starting with /"
            )));
        }
        Ok(Fingerprints {
            products: f.products,
            generic: f.generic,
        })
    }

    pub fn get(&self, id: &str) -> Option<&Fingerprint> {
        self.products.iter().find(|p| p.id == id)
    }
}

impl Fingerprint {
    /// The GETs of one round: listed requests, then the auth and version paths,
    /// deduplicated, capped at MAX_REQUESTS.
    pub fn round(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let extra = [
            Some(&self.auth.path),
            self.version.as_ref().map(|v| &v.path),
        ];
        for p in self.requests.iter().chain(extra.into_iter().flatten()) {
            if !out.contains(p) && out.len() < MAX_REQUESTS {
                out.push(p.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_fingerprints_parse_and_name_signature_products() {
        let f = Fingerprints::embedded().expect("fingerprints");
        let sigs = super::super::Signatures::embedded().expect("signatures");
        for p in &f.products {
            assert!(sigs.get(&p.id).is_some(), "{} is not a signature id", p.id);
            assert!(p.round().len() <= MAX_REQUESTS);
        }
    }
}
