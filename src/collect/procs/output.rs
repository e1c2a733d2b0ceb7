//! Where a server's output goes, and whether it holds the access token the
//! server printed there. A product that makes up a token at start prints it in a
//! URL (Jupyter, marimo); when that output is redirected to a file, the file is
//! the key. The file is read through the process's own descriptor (the file it
//! writes, even renamed), line by line, and only the line of the first match is
//! kept: the token never leaves this function.

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use regex_lite::Regex;

use crate::collect::host::UserNames;
use crate::collect::models::access::{self, Groups};
use crate::collect::versions::python::resolve_in_root;
use crate::model::TokenInOutput;

/// Bytes of an output file searched: start-up lines come first.
const MAX_READ: u64 = 8 << 20;

/// The regular file behind fd 1 or 2 of `pid`, as the process sees it.
fn output_file(pid: u32, fd: u32) -> Option<String> {
    let target = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok()?;
    let t = target.to_string_lossy().into_owned();
    // Pipes, sockets, terminals and /dev/null hold nothing anyone reads later; a
    // deleted file only its holders can open.
    if !t.starts_with('/') || t.starts_with("/dev/") || t.ends_with(" (deleted)") {
        return None;
    }
    Some(t)
}

/// 1-based line of the first match of `token` in what `r` yields.
fn first_line(r: impl Read, token: &Regex) -> Option<u64> {
    let mut reader = std::io::BufReader::new(r.take(MAX_READ));
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(_) => {
                line += 1;
                if token.is_match(&String::from_utf8_lossy(&buf)) {
                    return Some(line);
                }
            }
        }
    }
}

/// Output files of `pids` that hold a printed token, with who can read them.
pub fn token_outputs(
    pids: &[u32],
    token: &Regex,
    users: &UserNames,
    groups: fn() -> Groups,
) -> Vec<TokenInOutput> {
    let mut out: Vec<TokenInOutput> = Vec::new();
    let mut loaded: Option<Groups> = None;
    for &pid in pids {
        for (fd, stream) in [(1, "stdout"), (2, "stderr")] {
            let Some(path) = output_file(pid, fd) else {
                continue;
            };
            if out.iter().any(|o| o.path == path) {
                continue;
            }
            let Ok(file) = std::fs::File::open(format!("/proc/{pid}/fd/{fd}")) else {
                continue;
            };
            let Some(line) = first_line(file, token) else {
                continue;
            };
            let groups = loaded.get_or_insert_with(groups);
            let root = PathBuf::from(format!("/proc/{pid}/root"));
            let access = access::chain(
                Path::new(&path),
                None,
                &|p| resolve_in_root(&root, p),
                users,
                groups,
            );
            out.push(TokenInOutput {
                pid,
                stream: stream.into(),
                path,
                line,
                access,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_line_with_a_token_and_none_without() {
        let re = Regex::new(r"access_token=[A-Za-z0-9_-]{8,}").expect("regex");
        let log = "starting\n  URL: http://0.0.0.0:2718?access_token=T9NUgxJlCROGhy9dgnkeyQ\nbye\n";
        assert_eq!(first_line(log.as_bytes(), &re), Some(2));
        assert_eq!(first_line("access_token=\nnone\n".as_bytes(), &re), None);
        assert_eq!(first_line(&b"\xff\xfe binary\n"[..], &re), None);
    }
}
