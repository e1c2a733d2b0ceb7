//! llama.cpp build numbers: tags `b<N>`, `--version` prints `version: <N> (<commit>)`.
//! Compared as integers (`b10000` > `b3561`, which string order gets wrong).
//! The number is `git rev-list --count HEAD` of the checkout it was built in
//! (cmake/build-info.cmake), 0 without git. A build from a vendored copy
//! (llama-cpp-python's sdist, other projects' trees) counts another
//! repository's commits: the llama-server built from llama-cpp-python 0.3.36
//! reports build 1. llama.cpp's own master was past build 1000 in 2023, before
//! GGUF and the server binaries every advisory here concerns, so a smaller
//! number is taken as "not a llama.cpp build number": unknown, not oldest.

/// Below this, a build number is a placeholder or another repository's count.
pub const MIN_BUILD: u64 = 1000;

pub fn parse(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let t = t.strip_prefix("version:").map_or(t, str::trim_start);
    let t = t.strip_prefix(['b', 'B']).unwrap_or(t);
    let end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, rest) = t.split_at(end);
    if digits.is_empty() || !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
        return Err(format!("{s:?} is not a llama.cpp build number"));
    }
    match digits.parse::<u64>() {
        Ok(n) if n < MIN_BUILD => Err(format!(
            "{s:?}: build number {n} is not a llama.cpp master build (built outside a \
             llama.cpp git checkout, e.g. from a vendored copy), version unknown"
        )),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{s:?}: build number out of range")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_integer_order() {
        assert_eq!(parse("b3561"), Ok(3561));
        assert_eq!(parse("3561"), Ok(3561));
        assert_eq!(parse("version: 3561 (6e2b6351)"), Ok(3561));
        assert!(parse("b10000").unwrap() > parse("b3561").unwrap());
        assert!(parse("b0").is_err());
        assert!(parse("0").is_err());
        // What the llama-server built from llama-cpp-python's sdist reports.
        assert!(parse("b1").is_err());
        assert!(parse("b999").is_err());
        assert_eq!(parse("b1000"), Ok(1000));
        assert!(parse("55d4206c8").is_err());
        assert!(parse("b12x").is_err());
        assert!(parse("").is_err());
    }
}
