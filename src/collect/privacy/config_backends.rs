//! Back-ends named in known configuration files: LiteLLM's `--config` YAML
//! (`model_list[].litellm_params.model` provider prefix and `api_base` host,
//! and logging callbacks that ship request logs to other services). Keys and
//! other secrets in the file are never read out: only providers and hosts.

use std::io::Read;

use yaml_rust2::{Yaml, YamlLoader};

use crate::knowledge::privacy::{ConfigFile, Privacy};
use crate::model::privacy::ConfigBackend;
use crate::model::redact::url_host;
use crate::model::{BlindSpot, Server, Source};

/// Configuration files are small; a bigger one is not read (and said so).
const MAX_CONFIG: u64 = 1024 * 1024;

pub fn read(
    servers: &[Server],
    privacy: &Privacy,
    blind: &mut Vec<BlindSpot>,
) -> Vec<ConfigBackend> {
    let mut out = Vec::new();
    for s in servers {
        for cf in privacy
            .config_files
            .iter()
            .filter(|c| c.products.contains(&s.product_id))
        {
            let Some(path) = config_path(s, cf) else {
                continue;
            };
            let seen_at = if let Some(abs) = path.strip_prefix('/') {
                format!("/proc/{}/root/{abs}", s.pid)
            } else {
                format!("/proc/{}/cwd/{path}", s.pid)
            };
            match read_capped(&seen_at) {
                Ok(text) => match cf.format.as_str() {
                    "litellm" => out.extend(litellm(s.pid, &path, &text, blind)),
                    other => blind.push(BlindSpot {
                        what: format!("configuration {path} of pid {}", s.pid),
                        path: Source::path(path.clone()),
                        reason: format!("no reader for format {other:?}"),
                        consequence: "back-ends it names are not listed".into(),
                    }),
                },
                Err(reason) => blind.push(BlindSpot {
                    what: format!("configuration {path} of pid {}", s.pid),
                    path: Source::path(seen_at),
                    reason,
                    consequence: "the model back-ends and logging callbacks it names are not listed: the air-gap verdict cannot see them".into(),
                }),
            }
        }
    }
    out
}

fn config_path(s: &Server, cf: &ConfigFile) -> Option<String> {
    if let Some(flag) = &cf.flag
        && let Some(v) = crate::model::argv::value(&s.cmdline, flag)
    {
        return Some(v.to_string());
    }
    let env = cf.env.as_ref()?;
    s.env_config
        .iter()
        .find(|e| e.name == *env)
        .map(|e| e.value.clone())
}

fn read_capped(path: &str) -> Result<String, String> {
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    f.take(MAX_CONFIG + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_CONFIG {
        return Err(format!("larger than {MAX_CONFIG} bytes"));
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())
}

/// `os.environ/NAME`: LiteLLM reads the value from that variable.
fn env_reference(v: &str) -> Option<&str> {
    v.strip_prefix("os.environ/")
}

pub fn litellm(pid: u32, file: &str, text: &str, blind: &mut Vec<BlindSpot>) -> Vec<ConfigBackend> {
    let docs = match YamlLoader::load_from_str(text) {
        Ok(d) => d,
        Err(e) => {
            blind.push(BlindSpot {
                what: format!("LiteLLM configuration {file} of pid {pid}"),
                path: Source::path(file),
                reason: format!("not valid YAML: {e}"),
                consequence: "its model back-ends are not listed".into(),
            });
            return Vec::new();
        }
    };
    let Some(doc) = docs.first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let entry = |key: String, provider: Option<String>, host: Option<String>| ConfigBackend {
        pid,
        file: file.to_string(),
        key,
        provider,
        host,
    };
    if let Some(list) = doc["model_list"].as_vec() {
        for (i, m) in list.iter().enumerate() {
            let params = &m["litellm_params"];
            let model = params["model"].as_str().unwrap_or("");
            let provider = model.split_once('/').map(|(p, _)| p.to_string());
            let (key, host) = match params["api_base"].as_str() {
                Some(v) if env_reference(v).is_some() => (
                    format!(
                        "model_list[{i}].litellm_params.api_base (from {})",
                        env_reference(v).unwrap_or_default()
                    ),
                    None,
                ),
                Some(v) => (
                    format!("model_list[{i}].litellm_params.api_base"),
                    url_host(v),
                ),
                None => (format!("model_list[{i}].litellm_params.model"), None),
            };
            out.push(entry(key, provider, host));
        }
    }
    // Logging integrations send each request (prompts included, by default) to
    // their service; `prometheus` is scraped locally instead.
    for key in ["callbacks", "success_callback", "failure_callback"] {
        let names: Vec<&str> = match &doc["litellm_settings"][key] {
            Yaml::Array(a) => a.iter().filter_map(Yaml::as_str).collect(),
            Yaml::String(s) => vec![s.as_str()],
            _ => Vec::new(),
        };
        for (i, n) in names.into_iter().enumerate() {
            out.push(entry(
                format!("litellm_settings.{key}[{i}]"),
                Some(format!("callback:{n}")),
                None,
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn litellm_model_list_and_callbacks() {
        let text = r#"
model_list:
  - model_name: local
    litellm_params:
      model: ollama/llama3
      api_base: http://127.0.0.1:11434
  - model_name: gpt
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/OPENAI_API_KEY
  - model_name: remote
    litellm_params:
      model: hosted_vllm/m
      api_base: https://user:pw@gpu.example.net:8000/v1
litellm_settings:
  success_callback: ["langfuse", "prometheus"]
"#;
        let mut blind = Vec::new();
        let b = litellm(9, "/etc/litellm.yaml", text, &mut blind);
        assert!(blind.is_empty());
        let got: Vec<(Option<&str>, Option<&str>)> = b
            .iter()
            .map(|x| (x.provider.as_deref(), x.host.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (Some("ollama"), Some("127.0.0.1")),
                (Some("openai"), None),
                (Some("hosted_vllm"), Some("gpu.example.net")),
                (Some("callback:langfuse"), None),
                (Some("callback:prometheus"), None),
            ]
        );
        // Nothing of the credentials is kept.
        assert!(!format!("{b:?}").contains("pw"));
    }

    #[test]
    fn broken_yaml_is_a_blind_spot() {
        let mut blind = Vec::new();
        assert!(litellm(9, "c.yaml", "model_list: [\n", &mut blind).is_empty());
        assert_eq!(blind.len(), 1);
    }
}
