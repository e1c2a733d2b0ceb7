//! Calendar dates as the operator writes them (approvals, accepted risks).

/// A date as YYYY-MM-DD, checked against the calendar (2026-02-30 is refused).
pub fn parse_date(s: &str) -> Result<(u32, u32, u32), String> {
    let bad = || format!("{s:?} is not a date as YYYY-MM-DD");
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> Result<u32, String> {
        let part = &s[r];
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(format!("{s:?}: month {m} does not exist")),
    };
    if d == 0 || d > days {
        return Err(format!("{s:?}: day {d} does not exist in month {m}"));
    }
    Ok((y, m, d))
}
