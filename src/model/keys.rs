//! Keys that name a server, listener or egress peer across restarts: a server
//! is (product, executable, user), never a pid. The timeline stores first-seen
//! times under them; views look those times up with the same keys.

/// A server across restarts: product, executable and user, never the pid.
pub fn server_identity(s: &crate::model::Server) -> String {
    let exe = s
        .exe
        .clone()
        .or_else(|| s.cmdline.first().cloned())
        .unwrap_or_default();
    format!(
        "{}|{}|{}",
        s.product_id,
        exe,
        s.uid.map_or_else(|| "?".into(), |u| u.to_string())
    )
}

pub fn listener_key(identity: &str, sock: &crate::model::Socket) -> String {
    let proto = match sock.protocol {
        crate::model::Protocol::Tcp => "tcp",
        crate::model::Protocol::Udp => "udp",
    };
    format!("{identity}|{}/{proto}", sock.local)
}

pub fn egress_key(identity: &str, e: &crate::model::privacy::Egress) -> String {
    let proto = match e.protocol {
        crate::model::Protocol::Tcp => "tcp",
        crate::model::Protocol::Udp => "udp",
    };
    let remote = match e.remote {
        std::net::IpAddr::V4(a) => format!("{a}:{}", e.port),
        std::net::IpAddr::V6(a) => format!("[{a}]:{}", e.port),
    };
    format!("{identity}|{proto}|{remote}")
}
