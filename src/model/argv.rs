//! Reading flags from a (redacted) command line, the one way every rule and
//! collector does it: `--flag VALUE` and `--flag=VALUE`; the last one wins, as in
//! the argparse / clap / cobra parsers of the products.

/// Each occurrence of `flag`, with its value when it has one (`--flag` followed
/// by another flag or by nothing has none).
pub fn occurrences<'a>(argv: &'a [String], flag: &'a str) -> impl Iterator<Item = Option<&'a str>> {
    argv.iter().enumerate().skip(1).filter_map(move |(i, a)| {
        if a == flag {
            Some(argv.get(i + 1).map(String::as_str).filter(|v| !is_flag(v)))
        } else {
            a.strip_prefix(flag)
                .and_then(|r| r.strip_prefix('='))
                .map(Some)
        }
    })
}

/// `-x` / `--x`, but not `-` (stdin) or a negative number.
fn is_flag(v: &str) -> bool {
    v.len() > 1 && v.starts_with('-') && !v[1..].bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// Is the flag on the command line at all?
pub fn has(argv: &[String], flag: &str) -> bool {
    occurrences(argv, flag).next().is_some()
}

/// The value of the last occurrence that has one.
pub fn value<'a>(argv: &'a [String], flag: &'a str) -> Option<&'a str> {
    occurrences(argv, flag).flatten().last()
}

/// `Some(value)` when the flag is present (`Some(None)`: without a value).
pub fn presence<'a>(argv: &'a [String], flag: &'a str) -> Option<Option<&'a str>> {
    occurrences(argv, flag).last()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn both_spellings_last_wins() {
        let a = argv("srv --log-file a --x --log-file=b");
        assert_eq!(value(&a, "--log-file"), Some("b"));
        assert_eq!(value(&argv("srv --share"), "--share"), None);
        assert_eq!(
            presence(&argv("srv --share --port 1"), "--share"),
            Some(None)
        );
        assert!(has(&argv("srv --share"), "--share"));
        assert_eq!(value(&argv("srv -ngl -1"), "-ngl"), Some("-1"));
        // A prefix of another flag is not the flag.
        assert!(!has(&argv("srv --shared x"), "--share"));
        // argv[0] is the program, never a flag.
        assert!(!has(&argv("--share"), "--share"));
    }
}
