//! Secret hygiene. Values of secret flags, URL userinfo and secret-looking query
//! parameters are replaced before any argv is stored, so nothing downstream (UI,
//! logs, exports) can leak them: the raw argv never leaves the collector.

use std::sync::LazyLock;

use regex_lite::Regex;

pub const REDACTED: &str = "<redacted>";

/// Words that make a flag or variable name look secret, anywhere in it, in any
/// ASCII case. Checked on every flag of every process: substring tests, not a
/// regex (a PikeVM over each name was a seventh of a snapshot's instructions).
const SECRET_WORDS: [&str; 11] = [
    "key",
    "token",
    "secret",
    "passw",
    "pwd",
    "credential",
    "auth",
    "cookie",
    "session",
    "private",
    "bearer",
];

// scheme://user[:pass]@host  — the userinfo part is a credential whatever it holds.
static URL_USERINFO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@").expect("static regex"));

// ?token=…&x=…  — values of secret-looking query parameters.
static QUERY_SECRET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)([?&;][^=&;#\s]*(?:key|token|secret|passw|sig|auth|credential)[^=&;#\s]*=)[^&;#\s]*",
    )
    .expect("static regex")
});

/// Does an environment variable or flag name look like it carries a secret?
pub fn is_secret_name(name: &str) -> bool {
    let bare = name.trim_start_matches('-');
    if matches!(bare, "PWD" | "OLDPWD") {
        return false;
    }
    let lower = bare.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| lower.contains(w))
}

/// Strip credentials embedded in a URL-ish string (userinfo, secret query values).
pub fn redact_text(s: &str) -> String {
    // Each pattern needs these characters: most arguments have none of them and
    // skip the regex engines (run on every argument of every process).
    let s = if s.contains("://") && s.contains('@') {
        URL_USERINFO.replace_all(s, format!("${{1}}{REDACTED}@").as_str())
    } else {
        std::borrow::Cow::Borrowed(s)
    };
    if s.contains('=') && s.contains(['?', '&', ';']) {
        QUERY_SECRET
            .replace_all(&s, format!("${{1}}{REDACTED}").as_str())
            .into_owned()
    } else {
        s.into_owned()
    }
}

/// Host of a URL; userinfo, path and query are dropped and never kept. Values
/// may arrive already redacted (`https://<redacted>@host`), which is not a valid
/// URI: the userinfo is cut before parsing.
pub fn url_host(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let uri: http::Uri = format!("{scheme}://{authority}/").parse().ok()?;
    uri.host().map(|h| h.to_ascii_lowercase())
}

/// The argv with secret values replaced, and the names of the flags whose values went.
///
/// `known_secret_flags` come from the product's signature: their next argument is
/// always a secret. Other flags whose name looks secret lose their value too, unless
/// the next argument is itself a flag (a boolean switch such as `--no-auth`).
pub fn redact_argv(argv: &[String], known_secret_flags: &[String]) -> (Vec<String>, Vec<String>) {
    let is_known = |name: &str| known_secret_flags.iter().any(|f| f == name);
    let mut out = Vec::with_capacity(argv.len());
    let mut flags = Vec::new();
    let mut i = 0;
    while i < argv.len() {
        let arg = &argv[i];
        if arg.starts_with('-') && arg.len() > 1 {
            if let Some((name, value)) = arg.split_once('=') {
                // An empty value hides nothing, and "no token" is itself a finding.
                if !value.is_empty() && (is_known(name) || is_secret_name(name)) {
                    flags.push(name.to_string());
                    out.push(format!("{name}={REDACTED}"));
                    i += 1;
                    continue;
                }
            } else if let Some(next) = argv.get(i + 1)
                && !next.is_empty()
                && (is_known(arg) || (is_secret_name(arg) && !next.starts_with('-')))
            {
                flags.push(arg.clone());
                out.push(arg.clone());
                out.push(REDACTED.to_string());
                i += 2;
                continue;
            }
        }
        out.push(redact_text(arg));
        i += 1;
    }
    flags.sort();
    flags.dedup();
    (out, flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn known_flag_value_is_redacted_in_both_spellings() {
        let known = v(&["--api-key"]);
        let (out, flags) = redact_argv(
            &v(&[
                "llama-server",
                "--api-key",
                "s3cret",
                "--api-key=s3cret2",
                "-m",
                "x.gguf",
            ]),
            &known,
        );
        assert_eq!(
            out,
            v(&[
                "llama-server",
                "--api-key",
                REDACTED,
                "--api-key=<redacted>",
                "-m",
                "x.gguf"
            ])
        );
        assert_eq!(flags, v(&["--api-key"]));
    }

    #[test]
    fn generic_secret_flag_is_redacted_but_boolean_switch_keeps_next_flag() {
        let (out, flags) = redact_argv(
            &v(&["srv", "--hf-token", "hf_abc", "--no-auth", "--port", "8"]),
            &[],
        );
        assert_eq!(
            out,
            v(&["srv", "--hf-token", REDACTED, "--no-auth", "--port", "8"])
        );
        assert_eq!(flags, v(&["--hf-token"]));
    }

    #[test]
    fn empty_values_stay_visible() {
        let (out, flags) = redact_argv(
            &v(&[
                "jupyter-lab",
                "--ServerApp.token=",
                "--IdentityProvider.token",
                "",
                "--ip",
                "0.0.0.0",
            ]),
            &v(&["--IdentityProvider.token"]),
        );
        assert_eq!(
            out,
            v(&[
                "jupyter-lab",
                "--ServerApp.token=",
                "--IdentityProvider.token",
                "",
                "--ip",
                "0.0.0.0"
            ])
        );
        assert!(flags.is_empty());
    }

    #[test]
    fn url_userinfo_and_query_secrets_are_stripped() {
        assert_eq!(
            redact_text("http://bob:hunter2@10.0.0.5:11434/x?token=abc&model=m"),
            "http://<redacted>@10.0.0.5:11434/x?token=<redacted>&model=m"
        );
        assert_eq!(redact_text("/models/llama.gguf"), "/models/llama.gguf");
    }

    #[test]
    fn secret_names() {
        assert!(is_secret_name("OPENAI_API_KEY"));
        assert!(is_secret_name("HF_TOKEN"));
        assert!(is_secret_name("--Db-PassWord"));
        assert!(is_secret_name("x-bearer"));
        assert!(is_secret_name("OLDPWD_SAVED"));
        assert!(!is_secret_name("PWD"));
        assert!(!is_secret_name("LLAMA_ARG_HOST"));
    }
}
