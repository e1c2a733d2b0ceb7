//! NVIDIA Triton NGC container releases `YY.MM` (e.g. `24.03`), compared as
//! (year, month). The server's own SemVer (`2.44.0`) is a different scheme and is
//! refused here rather than misread.

pub fn parse(s: &str) -> Result<(u32, u32), String> {
    let t = s.trim();
    let t = t.strip_prefix(['r', 'R']).unwrap_or(t);
    let bad = || format!("{s:?} is not a Triton YY.MM release");
    let (y, m) = t.split_once('.').ok_or_else(bad)?;
    let two_digits = |p: &str| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit());
    if !two_digits(y) || !two_digits(m) {
        return Err(bad());
    }
    let (y, m) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if !(1..=12).contains(&m) {
        return Err(bad());
    }
    Ok((y, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_order_across_years() {
        assert!(parse("24.12").unwrap() < parse("25.06").unwrap());
        assert!(parse("22.08").unwrap() < parse("22.09").unwrap());
        assert_eq!(parse("r24.03"), Ok((24, 3)));
        assert!(parse("2.44.0").is_err());
        assert!(parse("24.13").is_err());
        assert!(parse("24.3").is_err());
    }
}
