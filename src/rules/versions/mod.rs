//! Version orderings of the advisory schemes: PEP 440 (PyPI), SemVer (Go and OSV
//! `SEMVER` ranges), Debian (dpkg), llama.cpp build numbers and Triton `YY.MM`.
//! Each parser takes the string as read and either gives a comparable version
//! or says why not; nothing here guesses an order for an unreadable string.

pub mod dpkg;
pub mod gover;
pub mod llamacpp;
pub mod pep440;
pub mod triton;

use std::cmp::Ordering;

/// How the versions of one range (or one ecosystem) are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Pep440,
    Semver,
    Dpkg,
    LlamaCppBuild,
    TritonRelease,
}

/// A parsed version. Only versions of one scheme are ever compared.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    Pep440(pep440_rs::Version),
    Semver(semver::Version),
    Dpkg(dpkg::DebVersion),
    Build(u64),
    Release(u32, u32),
}

/// An advisory bound, possibly read leniently (junk suffix dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    pub version: Version,
    /// The bound was not valid as written (e.g. `2.6.0-NA`): a match on it is
    /// low-confidence.
    pub lenient: bool,
}

impl Scheme {
    /// An installed version (local labels and build metadata dropped for ordering).
    pub fn parse_installed(self, s: &str) -> Result<Version, String> {
        match self {
            Scheme::Pep440 => pep440::parse_public(s).map(Version::Pep440),
            Scheme::Semver => gover::parse(s).map(Version::Semver),
            Scheme::Dpkg => dpkg::parse(s).map(Version::Dpkg),
            Scheme::LlamaCppBuild => llamacpp::parse(s).map(Version::Build),
            Scheme::TritonRelease => triton::parse(s).map(|(y, m)| Version::Release(y, m)),
        }
    }

    /// A bound from an advisory; PyPI bounds with NVD junk suffixes are read
    /// leniently and marked so.
    pub fn parse_bound(self, s: &str) -> Result<Bound, String> {
        match self {
            Scheme::Pep440 => pep440::parse_bound(s).map(|(v, lenient)| Bound {
                version: Version::Pep440(v),
                lenient,
            }),
            _ => self.parse_installed(s).map(|version| Bound {
                version,
                lenient: false,
            }),
        }
    }

    /// Equality as an exact `versions[]` entry means it.
    pub fn same(self, installed: &Version, listed: &str) -> bool {
        self.parse_bound(listed)
            .is_ok_and(|b| !b.lenient && b.version.cmp(installed) == Ordering::Equal)
    }
}
