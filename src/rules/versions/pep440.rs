//! PEP 440 through `pep440_rs`. Advisory bounds are public versions, and PEP 440
//! specifiers ignore a local label when the specifier has none (`<=2.6.0`
//! matches `2.6.0+cu124`), so both sides are compared by their public part.

use std::str::FromStr;

use pep440_rs::Version;

pub fn parse_public(s: &str) -> Result<Version, String> {
    Version::from_str(s.trim())
        .map(Version::without_local)
        .map_err(|e| format!("{s:?} is not a PEP 440 version: {e}"))
}

/// NVD-derived suffixes seen in PYSEC bounds (`2.6.0-NA`, `2.6.0-cu124`): not
/// PEP 440. The numeric part is the bound that was meant.
fn strip_junk_suffix(s: &str) -> Option<&str> {
    let (head, tail) = s.rsplit_once('-')?;
    let junk = tail.eq_ignore_ascii_case("na")
        || tail.eq_ignore_ascii_case("cpu")
        || (tail.len() > 2
            && tail[..2].eq_ignore_ascii_case("cu")
            && tail[2..].bytes().all(|b| b.is_ascii_digit()))
        || (tail.len() > 4 && tail[..4].eq_ignore_ascii_case("rocm"));
    junk.then_some(head)
}

/// (version, lenient): lenient when a junk suffix had to be dropped.
pub fn parse_bound(s: &str) -> Result<(Version, bool), String> {
    let s = s.trim();
    // Strict first: `-1` is a valid post-release spelling (`1.0-1` == `1.0.post1`).
    match parse_public(s) {
        Ok(v) => Ok((v, false)),
        Err(e) => match strip_junk_suffix(s) {
            Some(head) => parse_public(head).map(|v| (v, true)).map_err(|_| e),
            None => Err(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        parse_public(s).expect(s)
    }

    #[test]
    fn ordering_of_pre_post_dev_and_epochs() {
        assert!(v("1.0.dev1") < v("1.0a1"));
        assert!(v("1.0a1.dev1") < v("1.0a1"));
        assert!(v("1.0a1") < v("1.0b1"));
        assert!(v("1.0rc1") < v("1.0"));
        assert!(v("1.0") < v("1.0.post1"));
        assert!(v("1.0.post1.dev1") < v("1.0.post1"));
        assert!(v("3.11.0.dev0") < v("3.11.0rc0"));
        assert!(v("1!0.1") > v("99.0"));
        assert_eq!(v("1.0"), v("1.0.0"));
        assert_eq!(v("1.0-1"), v("1.0.post1"));
    }

    #[test]
    fn spellings_normalise() {
        assert_eq!(v("5.0.0-rc0"), v("5.0.0rc0"));
        assert_eq!(v("5.0.0-beta.2"), v("5.0.0b2"));
        assert_eq!(v("V1.2"), v("1.2"));
    }

    #[test]
    fn local_labels_compare_by_public_part() {
        assert_eq!(v("2.6.0+cu124"), v("2.6.0"));
        assert_eq!(v("2.6.0+cu126"), v("2.6.0+cu124"));
        assert!(v("2.5.1+cu121") < v("2.6.0"));
    }

    #[test]
    fn junk_bounds_are_lenient_and_invalid_ones_refused() {
        assert_eq!(parse_bound("2.6.0-NA").unwrap(), (v("2.6.0"), true));
        assert_eq!(parse_bound("2.6.0-cu124").unwrap(), (v("2.6.0"), true));
        assert_eq!(parse_bound("0.1.33-NA").unwrap(), (v("0.1.33"), true));
        assert_eq!(parse_bound("2.6.0+cu124").unwrap(), (v("2.6.0"), false));
        assert_eq!(parse_bound("1.0-1").unwrap(), (v("1.0.post1"), false));
        assert!(parse_bound("not-a-version").is_err());
        assert!(parse_public("2.6.0-NA").is_err());
    }
}
