//! Test builders shared by the rule tests (compiled only for `cargo test`).

use super::*;

/// A strongly identified server with nothing else known; tests override fields.
pub fn server(pid: u32, product_id: &str) -> Server {
    Server {
        product_id: product_id.into(),
        product: product_id.into(),
        pid,
        ppid: 1,
        uid: Some(0),
        user: Some("root".into()),
        exe: None,
        cmdline: vec![product_id.into()],
        netns: None,
        identification: Identification {
            strength: MatchStrength::Strong,
            reason: "test".into(),
            signature_status: "src".into(),
        },
        workers: vec![],
        helpers: vec![],
        sockets: vec![],
        models: vec![],
        auth: AuthConfig {
            state: AuthState::NotConfigured,
            evidence: vec![],
            self_grant: vec![],
        },
        token_outputs: vec![],
        secret_env_names: vec![],
        env_unreadable: None,
        secret_flags: vec![],
        env_config: vec![],
        confinement: Confinement::default(),
        components: vec![],
        runtime: Default::default(),
    }
}

/// An inventory with nothing in it, collected at 2026-01-01.
pub fn inventory() -> Inventory {
    Inventory {
        host: HostInfo {
            hostname: "h".into(),
            kernel: None,
            os: None,
            collected_at: "2026-01-01T00:00:00Z".into(),
            collection_ms: 1,
        },
        privileges: Privileges {
            uid: 0,
            user: "root".into(),
            is_root: true,
            capabilities: vec![],
        },
        own_netns: None,
        servers: vec![],
        sockets: vec![],
        interfaces: vec![],
        publishes: vec![],
        store_files: vec![],
        model_roots: vec![],
        policy: Default::default(),
        containers: vec![],
        firewalls: vec![],
        probes: vec![],
        probes_enabled: false,
        hashing: HashProgress::default(),
        system_software: Default::default(),
        privacy: Default::default(),
        gpu: Default::default(),
        blind_spots: vec![],
        processes_seen: 1,
    }
}

/// A GGUF file mapped by `pid`, nothing else known; tests override fields.
pub fn loaded_model(path: &str, pid: u32) -> LoadedModel {
    LoadedModel {
        raw_path: None,
        path: path.into(),
        format: ModelFormat::Gguf { version: 3 },
        size_bytes: None,
        held_via: vec![HeldVia::Mmap],
        deleted: false,
        pid,
        dir_owner: None,
        facts: Default::default(),
    }
}

/// `"10.0.0.1:443"` as an endpoint.
pub fn ep(s: &str) -> Endpoint {
    let a: std::net::SocketAddr = s.parse().expect("addr");
    Endpoint {
        addr: a.ip(),
        port: a.port(),
        v4_mapped: false,
    }
}

/// Allowlisted environment values, as the collector keeps them.
pub fn env_settings(env: &[(&str, &str)]) -> Vec<EnvSetting> {
    env.iter()
        .map(|(n, v)| EnvSetting {
            name: n.to_string(),
            value: v.to_string(),
        })
        .collect()
}

/// A PyPI distribution as its METADATA names it.
pub fn pypi_component(key: &str, version: &str) -> crate::model::components::Component {
    use crate::model::components::{Component, Ecosystem, VersionSource};
    Component {
        version_note: None,
        canonical_version: None,
        ecosystem: Ecosystem::PyPI,
        name: key.into(),
        key: key.into(),
        version: version.into(),
        path: format!("/venv/lib/{key}-{version}.dist-info/METADATA"),
        how: VersionSource::DistInfoMetadata,
        replaced_by: None,
        source_package: None,
        shadowed: false,
        revision: None,
        detail: None,
    }
}
