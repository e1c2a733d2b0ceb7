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

/// The last words of a flag name that make it a credential's name: `--api-key`,
/// `--hf-token`, `--ServerApp.token`, `--ngrok-authtoken`, `--db-password`. A word
/// elsewhere in the name does not (`--key-file`, `--auth-type`, `--session-dir`,
/// `--token-limit` name a path, a mode, a directory, a number).
const CREDENTIAL_WORDS: [&str; 17] = [
    "key",
    "apikey",
    "token",
    "authtoken",
    "accesstoken",
    "accesskey",
    "secretkey",
    "privatekey",
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "credential",
    "credentials",
    "auth",
    "cookie",
];

/// Is a command-line flag named for a credential? Its name is split into words
/// at `-`, `_`, `.` and lower-to-upper case changes; the last word decides.
pub fn is_credential_flag(name: &str) -> bool {
    let bare = name.trim_start_matches('-');
    let mut last = String::new();
    let mut prev_lower = false;
    for c in bare.chars() {
        if matches!(c, '-' | '_' | '.') {
            last.clear();
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower {
            last.clear();
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        last.push(c.to_ascii_lowercase());
    }
    CREDENTIAL_WORDS.contains(&last.as_str())
}

/// A value that cannot itself be a secret: empty, a boolean or one-digit switch,
/// a path, or a URL without userinfo (one with userinfo is redacted by
/// [`redact_text`]).
pub fn is_plain_value(v: &str) -> bool {
    let v = v.trim();
    let lower = v.to_ascii_lowercase();
    v.is_empty()
        || matches!(
            lower.as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "none" | "null"
        )
        // One digit is a switch (`--auth 0`); anything longer under a credential's
        // name could be a PIN or a numeric key, and a leaked secret is worse than
        // a hidden number.
        || (v.len() == 1 && v.parse::<f64>().is_ok())
        || ["/", "./", "../", "~/"].iter().any(|p| v.starts_with(p))
        || (v.contains("://") && !v.contains('@'))
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
/// `known_secret_flags` come from the product's signature: their value is always
/// a secret, however the flag is spelt (`--api_key` for `--api-key`: argparse and
/// click accept both). Other flags are secrets by meaning: named for a
/// credential ([`is_credential_flag`]) and given a value that could be one
/// ([`is_plain_value`]: not a path, URL, boolean or number), never a flag (a
/// boolean switch such as `--no-auth` keeps the next flag).
pub fn redact_argv(argv: &[String], known_secret_flags: &[String]) -> (Vec<String>, Vec<String>) {
    redact_argv_abbrev(argv, known_secret_flags, &[])
}

/// `redact_argv`, where the program's parser also takes any unambiguous prefix
/// of the long options in `abbreviable` (Python's argparse, `allow_abbrev`):
/// `--api-k KEY` is `--api-key KEY` there.
pub fn redact_argv_abbrev(
    argv: &[String],
    known_secret_flags: &[String],
    abbreviable: &[String],
) -> (Vec<String>, Vec<String>) {
    let spelt = |f: &str| f.trim_start_matches('-').replace('_', "-");
    let is_known = |name: &str| {
        let n = spelt(name);
        known_secret_flags.iter().any(|f| spelt(f) == n)
    };
    // Only a Python program runs argparse.
    let argparse = argv.first().is_some_and(|a| {
        a.rsplit('/')
            .next()
            .is_some_and(|b| b.starts_with("python"))
    });
    let is_abbrev = |name: &str| {
        let n = spelt(name);
        argparse
            && name.starts_with("--")
            && n.len() >= 4
            && abbreviable.iter().any(|f| {
                let f = spelt(f);
                f.len() > n.len() && f.starts_with(&n)
            })
    };
    let secret = |name: &str, value: &str| {
        !value.is_empty()
            && (is_known(name)
                || is_abbrev(name)
                || (is_credential_flag(name) && !is_plain_value(value)))
    };
    let mut out = Vec::with_capacity(argv.len());
    let mut flags = Vec::new();
    let mut i = 0;
    while i < argv.len() {
        let arg = &argv[i];
        if arg.starts_with('-') && arg.len() > 1 {
            if let Some((name, value)) = arg.split_once('=') {
                // An empty value hides nothing, and "no token" is itself a finding.
                if secret(name, value) {
                    flags.push(name.to_string());
                    out.push(format!("{name}={REDACTED}"));
                    i += 1;
                    continue;
                }
            } else if let Some(next) = argv.get(i + 1)
                && (is_known(arg) || !next.starts_with('-'))
                && secret(arg, next)
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

    /// argparse's prefix matching: an abbreviated secret flag of a Python
    /// program is still that flag; a flag of its own that merely shares a
    /// prefix is not swallowed with the option after it.
    #[test]
    fn argparse_abbreviations_of_a_secret_flag_are_redacted() {
        let known = v(&["--api-key"]);
        let abbrev = |a: &[&str]| redact_argv_abbrev(&v(a), &known, &known);
        let (out, flags) = abbrev(&[
            "/v/bin/python3",
            "-m",
            "sglang.launch_server",
            "--api-k",
            "s3cret",
            "--api-ke=s3cret2",
        ]);
        assert!(!out.join(" ").contains("s3cret"), "{out:?}");
        assert_eq!(flags, v(&["--api-k", "--api-ke"]));
        // A boolean flag sharing the prefix keeps the next option.
        let (out, flags) = abbrev(&["python3", "server.py", "--api", "--listen"]);
        assert_eq!(out, v(&["python3", "server.py", "--api", "--listen"]));
        assert!(flags.is_empty());
        // Not a Python program: no prefix matching (llama.cpp's parser has none).
        let (out, _) = abbrev(&["llama-server", "--api-k", "x1"]);
        assert_eq!(out, v(&["llama-server", "--api-k", "x1"]));
        // A parser that takes no abbreviation (click, typer): none assumed.
        let (out, _) = redact_argv(&v(&["python3", "x.py", "--api-k", "x1"]), &known);
        assert_eq!(out, v(&["python3", "x.py", "--api-k", "x1"]));
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
    fn secrets_by_meaning_not_by_substring() {
        let cases: &[(&[&str], &[&str])] = &[
            // Named for something else, or given a path, URL, switch or count.
            (&["--session-dir", "/var/lib/s"], &[]),
            (&["--key-file", "/etc/k.pem"], &[]),
            (&["--ssl-keyfile=certs/k.pem"], &[]),
            (&["--auth-type", "basic"], &[]),
            (&["--token-limit", "4096"], &[]),
            (&["--token", "/run/secrets/t"], &[]),
            (&["--auth", "true"], &[]),
            (&["--api-key", "1"], &[]),
            (&["--secret", "https://vault.local/v1/kv"], &[]),
            // Credentials, by their last word, in every spelling.
            (&["--ngrok-authtoken", "2abcDEF"], &["--ngrok-authtoken"]),
            (&["--ServerApp.password=hunter2"], &["--ServerApp.password"]),
            (&["--hfToken", "hf_abc"], &["--hfToken"]),
            (&["--db_password", "123456"], &["--db_password"]),
            (&["--pin-secret", "4711"], &["--pin-secret"]),
            (&["--cookie-secret", "c00k1e"], &["--cookie-secret"]),
        ];
        for (args, want) in cases {
            let mut argv = vec!["srv".to_string()];
            argv.extend(args.iter().map(|s| s.to_string()));
            let (out, flags) = redact_argv(&argv, &[]);
            assert_eq!(flags, v(want), "{args:?} → {out:?}");
            let kept = out.iter().any(|a| a.contains(REDACTED));
            assert_eq!(kept, !want.is_empty(), "{args:?} → {out:?}");
        }
        // A flag the signature names is a secret in the spelling its parser also
        // accepts, and even when its value looks like a path.
        let known = v(&["--api-key"]);
        let (out, flags) = redact_argv(&v(&["srv", "--api_key", "/k"]), &known);
        assert_eq!(out, v(&["srv", "--api_key", REDACTED]));
        assert_eq!(flags, v(&["--api_key"]));
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
