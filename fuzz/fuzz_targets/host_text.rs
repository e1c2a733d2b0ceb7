//! Text files read from the host and from containers: /etc/hosts, dpkg status,
//! Python METADATA, /proc/driver/nvidia/version, CUDA version.json, and a
//! LiteLLM config YAML.
#![no_main]

use aiposture::collect::privacy::{config_backends, etc_hosts};
use aiposture::collect::versions::{python, system};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = etc_hosts::parse(text);
    let _ = system::parse_dpkg_status(text, |_| true);
    let _ = system::parse_nvidia_version(text);
    let _ = system::parse_cuda_version_json(text);
    let _ = python::parse_metadata(text);
    let mut blind = Vec::new();
    let _ = config_backends::litellm(1, "config.yaml", text, &mut blind);
});
