//! Configuration checks from assets/config_audit.toml, evaluated against each
//! server's redacted command line and allowlisted environment values.

use crate::knowledge::audit::{Audit, Check};
use crate::model::argv::value as flag_value;
use crate::model::{Evidence, Finding, Server, Source, Subject};

/// Evidence for each condition of `check` that holds; `None` unless all hold.
fn matches(check: &Check, s: &Server) -> Option<Vec<Evidence>> {
    let w = &check.when;
    let cmdline_src = Source::proc(s.pid, "cmdline");
    let environ_src = Source::proc(s.pid, "environ");
    let joined = s.cmdline.join(" ");
    let mut ev = Vec::new();
    if let Some(flag) = &w.flag {
        if !crate::model::argv::has(&s.cmdline, flag) {
            return None;
        }
        ev.push(Evidence::new(cmdline_src.clone(), format!("{flag} given")));
    }
    if let Some((flag, re)) = &w.flag_value {
        let v = flag_value(&s.cmdline, flag)?;
        if !re.is_match(v) {
            return None;
        }
        ev.push(Evidence::new(cmdline_src.clone(), format!("{flag} {v:?}")));
    }
    if let Some(re) = &w.argv_matches {
        let m = re.find(&joined)?;
        ev.push(Evidence::new(
            cmdline_src.clone(),
            format!("contains {:?}", m.as_str().trim()),
        ));
    }
    if let Some((name, re)) = &w.env_value {
        let v = s.env_config.iter().find(|e| &e.name == name)?;
        if !re.is_match(&v.value) {
            return None;
        }
        ev.push(Evidence::new(
            environ_src.clone(),
            format!("{name}={}", v.value),
        ));
    }
    if let Some(name) = &w.env_set {
        if !s.secret_env_names.contains(name) && !s.env_config.iter().any(|e| &e.name == name) {
            return None;
        }
        ev.push(Evidence::new(
            environ_src.clone(),
            format!("{name} is set (value not read)"),
        ));
    }
    if w.secret_on_cmdline {
        if s.secret_flags.is_empty() {
            return None;
        }
        ev.push(Evidence::new(
            cmdline_src.clone(),
            format!(
                "{} carries a secret (value redacted here)",
                s.secret_flags.join(", ")
            ),
        ));
    }
    Some(ev)
}

pub fn findings(servers: &[Server], audit: &Audit) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in servers {
        for c in &audit.checks {
            if !c.products.iter().any(|p| p == "*" || *p == s.product_id) {
                continue;
            }
            let Some(mut evidence) = matches(c, s) else {
                continue;
            };
            evidence.push(Evidence::new(
                Source::asset("assets/config_audit.toml", None),
                format!("{} ({})", c.id, c.source),
            ));
            out.push(Finding {
                rule: c.id.clone(),
                severity: c.severity,
                title: format!("{} (pid {}): {}", s.product, s.pid, c.title),
                subject: Subject {
                    product: s.product.clone(),
                    pid: s.pid,
                    listener: None,
                    path: None,
                },
                summary: c.why.clone(),
                evidence,
                remediation: c.remediation.clone(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    fn server(product: &str, argv: &str, env: &[(&str, &str)], secret_flags: &[&str]) -> Server {
        let mut s = crate::model::testing::server(9, product);
        s.cmdline = argv.split(' ').map(String::from).collect();
        s.secret_flags = secret_flags.iter().map(|s| s.to_string()).collect();
        s.env_config = crate::model::testing::env_settings(env);
        s
    }

    fn ids(s: &Server) -> Vec<String> {
        let audit = Audit::embedded().expect("audit asset");
        let mut v: Vec<String> = findings(std::slice::from_ref(s), &audit)
            .into_iter()
            .map(|f| f.rule)
            .collect();
        v.sort();
        v
    }

    #[test]
    fn checks_fire_on_what_they_name_and_nothing_else() {
        assert_eq!(
            ids(&server(
                "vllm",
                "python3 -m vllm.entrypoints.openai.api_server --trust-remote-code --api-key <redacted>",
                &[],
                &["--api-key"]
            )),
            vec!["config.secret-on-command-line", "config.trust-remote-code"]
        );
        assert_eq!(
            ids(&server(
                "ollama",
                "ollama serve",
                &[("OLLAMA_ORIGINS", "http://x,*")],
                &[]
            )),
            vec!["config.ollama-origins-any"]
        );
        assert_eq!(
            ids(&server(
                "ollama",
                "ollama serve",
                &[("OLLAMA_ORIGINS", "http://localhost:3000")],
                &[]
            )),
            Vec::<String>::new()
        );
        assert_eq!(
            ids(&server(
                "ollama",
                "ollama serve",
                &[("OLLAMA_HOST", "0.0.0.0:11434")],
                &[]
            )),
            vec!["config.ollama-host-all"]
        );
        assert_eq!(
            ids(&server(
                "jupyter",
                "jupyter-lab --ServerApp.token= --ip 0.0.0.0",
                &[],
                &[]
            )),
            vec!["config.jupyter-empty-token"]
        );
        assert_eq!(
            ids(&server(
                "jupyter",
                "jupyter-lab --ServerApp.token=<redacted>",
                &[],
                &["--ServerApp.token"]
            )),
            vec!["config.secret-on-command-line"]
        );
        assert_eq!(
            ids(&server(
                "sglang",
                "python3 -m sglang.launch_server --dist-init-addr tcp://*:5000",
                &[],
                &[]
            )),
            vec!["config.sglang-zmq-wildcard"]
        );
        assert_eq!(
            ids(&server(
                "a1111",
                "python launch.py --share --listen",
                &[],
                &[]
            )),
            vec!["config.public-share-tunnel"]
        );
        assert_eq!(
            ids(&server(
                "llama_server",
                "llama-server --host 127.0.0.1",
                &[],
                &[]
            )),
            Vec::<String>::new()
        );
    }
}
