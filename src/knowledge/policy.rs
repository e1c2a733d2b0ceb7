//! The operator's policy file: which models are approved, by whom, why and until
//! when. Operator data read at the edge (unlike `assets/`, it is not embedded);
//! every error names the line, and a bad file never stops the tool.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::model::policy::{Approval, PolicyStatus};

/// Policy files are a few KiB; a larger one is refused rather than parsed.
const POLICY_CAP: u64 = 1024 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    approve: Vec<Spanned<RawApproval>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApproval {
    sha256: Option<Spanned<String>>,
    publisher: Option<String>,
    repo: Option<String>,
    origin_country: Option<String>,
    jurisdictions: Option<Spanned<Vec<String>>>,
    reason: String,
    approver: String,
    date: Spanned<String>,
    expires: Option<Spanned<String>>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

pub use crate::model::date::parse_date;

/// Parse a policy file's text; errors read `path:line: message`.
pub fn parse(text: &str, path: &Path) -> Result<Vec<Approval>, String> {
    let at =
        |offset: usize, msg: String| format!("{}:{}: {msg}", path.display(), line_of(text, offset));
    let raw: RawPolicy = toml::from_str(text).map_err(|e| {
        let off = e.span().map(|s| s.start).unwrap_or(0);
        at(off, e.message().to_string())
    })?;
    let mut out = Vec::new();
    for entry in raw.approve {
        let start = entry.span().start;
        let line = line_of(text, start);
        let a = entry.into_inner();
        let sha256 = match a.sha256 {
            Some(s) => {
                let v = s.get_ref().trim().to_ascii_lowercase();
                let v = v.strip_prefix("sha256:").unwrap_or(&v).to_string();
                if v.len() != 64 || !v.bytes().all(|c| c.is_ascii_hexdigit()) {
                    return Err(at(
                        s.span().start,
                        format!("sha256 {:?} is not 64 hex digits", s.get_ref()),
                    ));
                }
                Some(v)
            }
            None => None,
        };
        let publisher = a.publisher.filter(|s| !s.trim().is_empty());
        let repo = a.repo.filter(|s| !s.trim().is_empty());
        let jurisdictions = match a.jurisdictions {
            Some(j) => {
                let codes: Vec<String> = j
                    .get_ref()
                    .iter()
                    .map(|c| c.trim().to_ascii_uppercase())
                    .collect();
                // ISO 3166-1 alpha-2, as assets/publishers.toml records seats.
                if codes.is_empty()
                    || codes
                        .iter()
                        .any(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()))
                {
                    return Err(at(
                        j.span().start,
                        format!(
                            "jurisdictions {:?} must be ISO 3166-1 alpha-2 codes (\"FR\", \"US\")",
                            j.get_ref()
                        ),
                    ));
                }
                codes
            }
            None => Vec::new(),
        };
        if sha256.is_none() && publisher.is_none() && repo.is_none() && jurisdictions.is_empty() {
            return Err(at(
                start,
                "an approval needs sha256, publisher, repo or jurisdictions to say what it approves"
                    .into(),
            ));
        }
        for (name, v) in [("reason", &a.reason), ("approver", &a.approver)] {
            if v.trim().is_empty() {
                return Err(at(start, format!("{name} is empty")));
            }
        }
        let date = parse_date(a.date.get_ref()).map_err(|e| at(a.date.span().start, e))?;
        let expires = match &a.expires {
            Some(x) => {
                let d = parse_date(x.get_ref()).map_err(|e| at(x.span().start, e))?;
                if d < date {
                    return Err(at(
                        x.span().start,
                        format!(
                            "expires {} is before the approval date {}",
                            x.get_ref(),
                            a.date.get_ref()
                        ),
                    ));
                }
                Some(x.get_ref().clone())
            }
            None => None,
        };
        out.push(Approval {
            line,
            sha256,
            publisher,
            repo,
            origin_country: a.origin_country.filter(|s| !s.trim().is_empty()),
            jurisdictions,
            reason: a.reason,
            approver: a.approver,
            date: a.date.into_inner(),
            expires,
        });
    }
    Ok(out)
}

/// Read the policy at `path`: absent, loaded, or invalid with the reason.
pub fn load(path: &Path) -> PolicyStatus {
    let shown = path.to_string_lossy().into_owned();
    let read = || -> std::io::Result<Vec<u8>> {
        use std::io::Read;
        let mut buf = Vec::new();
        std::fs::File::open(path)?
            .take(POLICY_CAP + 1)
            .read_to_end(&mut buf)?;
        Ok(buf)
    };
    let bytes = match read() {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return PolicyStatus::Absent { path: shown };
        }
        Err(e) => {
            return PolicyStatus::Invalid {
                path: shown.clone(),
                error: format!("{shown}: cannot be read: {e}"),
            };
        }
    };
    if bytes.len() as u64 > POLICY_CAP {
        return PolicyStatus::Invalid {
            path: shown.clone(),
            error: format!("{shown}: larger than {POLICY_CAP} bytes"),
        };
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(_) => {
            return PolicyStatus::Invalid {
                path: shown.clone(),
                error: format!("{shown}: not UTF-8 text"),
            };
        }
    };
    match parse(&text, path) {
        Ok(approvals) => PolicyStatus::Loaded {
            path: shown,
            approvals,
        },
        Err(error) => PolicyStatus::Invalid { path: shown, error },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Vec<Approval>, String> {
        parse(text, Path::new("policy.toml"))
    }

    #[test]
    fn dates_are_strict() {
        assert!(parse_date("2024-02-29").is_ok());
        for bad in [
            "2023-02-29",
            "2026-13-01",
            "2026-04-31",
            "2026-4-01",
            "2026-04-01T00:00:00",
            "26-04-01",
            "2026-00-10",
            "2026-+1-10",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn entries_and_errors_name_their_line() {
        let ok = p("# approvals\n\n[[approve]]\npublisher = \"Qwen\"\nreason = \"vendor reviewed\"\napprover = \"alice\"\ndate = \"2026-11-30\"\nexpires = \"2027-05-31\"\n")
            .expect("parses");
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].line, 3);
        assert_eq!(ok[0].publisher.as_deref(), Some("Qwen"));

        let e = p("[[approve]]\nrepo = \"a/b\"\nreason = \"r\"\napprover = \"a\"\ndate = \"2026-02-30\"\n")
            .expect_err("bad date");
        assert!(e.starts_with("policy.toml:5:"), "{e}");
        assert!(e.contains("day 30"), "{e}");

        let e = p("[[approve]]\nreason = \"r\"\napprover = \"a\"\ndate = \"2026-01-01\"\n")
            .expect_err("nothing approved");
        assert!(e.starts_with("policy.toml:1:"), "{e}");

        let e = p("[[approve]]\nrepo = \"a/b\"\nreason = \"r\"\napprover = \"a\"\ndate = \"2026-01-01\"\nexpiry = \"2027-01-01\"\n")
            .expect_err("unknown key");
        assert!(e.starts_with("policy.toml:6:"), "{e}");

        let e = p("[[approve]]\nsha256 = \"abc\"\nreason = \"r\"\napprover = \"a\"\ndate = \"2026-01-01\"\n")
            .expect_err("short digest");
        assert!(e.starts_with("policy.toml:2:"), "{e}");

        let e = p("[[approve]]\nrepo = \"a/b\"\nreason = \"r\"\napprover = \"a\"\ndate = \"2026-01-01\"\nexpires = \"2025-01-01\"\n")
            .expect_err("expires first");
        assert!(e.contains("before"), "{e}");
    }
}
