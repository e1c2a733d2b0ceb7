//! Debian package versions (`[epoch:]upstream[-revision]`) in dpkg's order
//! (deb-version(7)): `~` sorts before everything, even the end of the string,
//! letters before other characters, digit runs numerically.

use std::cmp::Ordering;

#[derive(Debug, Clone)]
pub struct DebVersion {
    epoch: u64,
    upstream: String,
    revision: String,
}

pub fn parse(s: &str) -> Result<DebVersion, String> {
    let t = s.trim();
    let bad = |why: &str| format!("{s:?} is not a Debian version: {why}");
    if t.is_empty() || t.chars().any(char::is_whitespace) {
        return Err(bad("empty or contains spaces"));
    }
    let (epoch, rest) = match t.split_once(':') {
        Some((e, rest)) => (e.parse::<u64>().map_err(|_| bad("epoch"))?, rest),
        None => (0, t),
    };
    let (upstream, revision) = rest.rsplit_once('-').unwrap_or((rest, ""));
    if !upstream.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(bad("upstream version must start with a digit"));
    }
    Ok(DebVersion {
        epoch,
        upstream: upstream.to_string(),
        revision: revision.to_string(),
    })
}

fn order(c: Option<u8>) -> i32 {
    match c {
        Some(b'~') => -1,
        None => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's verrevcmp.
fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ac = order(a.get(i).copied().filter(|c| !c.is_ascii_digit()));
            let bc = order(b.get(j).copied().filter(|c| !c.is_ascii_digit()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        let (si, sj) = (i, j);
        while i < a.len() && a[i].is_ascii_digit() {
            i += 1;
        }
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        // Leading zeros gone: a longer digit run is a bigger number.
        let by_len = (i - si).cmp(&(j - sj));
        if by_len != Ordering::Equal {
            return by_len;
        }
        let by_digits = a[si..i].cmp(&b[sj..j]);
        if by_digits != Ordering::Equal {
            return by_digits;
        }
    }
    Ordering::Equal
}

impl Ord for DebVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(&self.upstream, &other.upstream))
            .then_with(|| verrevcmp(&self.revision, &other.revision))
    }
}

impl PartialOrd for DebVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for DebVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for DebVersion {}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> DebVersion {
        parse(s).expect(s)
    }

    #[test]
    fn dpkg_order() {
        assert!(v("1.0~rc1") < v("1.0"));
        assert!(v("1.0~~") < v("1.0~"));
        assert!(v("1.0") < v("1.0a"));
        assert!(v("1.0a") < v("1.0+b1"));
        assert!(v("1.0-1") < v("1.0-2"));
        assert!(v("1.9") < v("1.10"));
        assert!(v("2.36-9+deb12u13") < v("2.36-9+deb12u14"));
        assert!(v("7.88.1-10+deb12u15") > v("7.88.1-10+deb12u5"));
        assert!(v("1:0.9") > v("2.0"));
        assert_eq!(v("1.01"), v("1.1"));
        assert_eq!(v("0:1.0-1"), v("1.0-1"));
        assert!(parse("").is_err());
        assert!(parse("a1.0").is_err());
        assert!(parse("x:1.0").is_err());
    }
}
