//! llama.cpp build numbers: tags `b<N>`, `--version` prints `version: <N> (<commit>)`.
//! Compared as integers (`b10000` > `b3561`, which string order gets wrong).
//! Build 0 is what a build outside a git checkout reports: unknown, not oldest.

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
        Ok(0) => Err(format!(
            "{s:?}: build 0 (built outside a git checkout), version unknown"
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
        assert!(parse("55d4206c8").is_err());
        assert!(parse("b12x").is_err());
        assert!(parse("").is_err());
    }
}
