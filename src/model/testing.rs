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
        sockets: vec![],
        models: vec![],
        auth: AuthConfig {
            state: AuthState::NotConfigured,
            evidence: vec![],
        },
        secret_env_names: vec![],
        secret_flags: vec![],
        env_config: vec![],
        confinement: Confinement::default(),
    }
}
