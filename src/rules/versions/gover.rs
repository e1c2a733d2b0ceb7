//! Go module versions as SemVer 2.0: `v` prefix dropped, build metadata
//! (`+incompatible`) ignored for precedence. Pseudo-versions
//! (`v0.0.0-20240102150405-abcdef123456`) are pre-releases of the next version and
//! need nothing special. OSV `SEMVER` bounds are written without `v`.

pub fn parse(s: &str) -> Result<semver::Version, String> {
    let t = s.trim();
    let t = t.strip_prefix(['v', 'V']).unwrap_or(t);
    let t = t.split_once('+').map_or(t, |(core, _build)| core);
    let (core, pre) = t.split_once('-').map_or((t, None), |(c, p)| (c, Some(p)));
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty()
        || parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!("{s:?} is not a SemVer/Go module version"));
    }
    // Some databases write `1.2` for `1.2.0`; pad as osv-scalibr does.
    let mut full = parts.join(".");
    for _ in parts.len()..3 {
        full.push_str(".0");
    }
    if let Some(p) = pre {
        full.push('-');
        full.push_str(p);
    }
    let mut v =
        semver::Version::parse(&full).map_err(|e| format!("{s:?} is not a SemVer version: {e}"))?;
    v.build = semver::BuildMetadata::EMPTY;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> semver::Version {
        parse(s).expect(s)
    }

    #[test]
    fn prefix_build_metadata_and_padding() {
        assert_eq!(v("v0.1.33"), v("0.1.33"));
        assert_eq!(v("v2.3.0+incompatible"), v("2.3.0"));
        assert_eq!(v("1.2"), v("1.2.0"));
        assert!(parse("(devel)").is_err());
        assert!(parse("").is_err());
        assert!(parse("1.2.3.4").is_err());
    }

    #[test]
    fn pre_releases_and_pseudo_versions() {
        assert!(v("0.4.0-ci0") < v("0.4.0-ci1"));
        assert!(v("0.4.0-ci1") < v("0.4.0-rc1"));
        assert!(v("0.1.34-rc1") < v("0.1.34"));
        assert!(v("1.0.0-alpha.2") < v("1.0.0-alpha.10"));
        assert!(v("1.0.0-alpha.10") < v("1.0.0-alpha.beta"));
        // Pseudo-version of a commit after v1.2.3: above it, below v1.2.4.
        let pseudo = v("v1.2.4-0.20240102150405-abcdef123456");
        assert!(v("1.2.3") < pseudo && pseudo < v("1.2.4"));
        let base = v("v0.0.0-20240102150405-abcdef123456");
        assert!(base < v("0.0.1"));
    }
}
