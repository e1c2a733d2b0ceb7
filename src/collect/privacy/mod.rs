//! What the privacy rules need from the system: tunnel and agent processes,
//! telemetry opt-out files, prompt logs, connections of AI processes and the
//! names `/etc/hosts` gives their peers. Nothing here judges.

pub mod actors;
pub mod config_backends;
pub mod connections;
pub mod etc_hosts;
pub mod prompt_logs;
pub mod switch_files;

use crate::collect::host::UserNames;
use crate::collect::models::access::Groups;
use crate::collect::procs::ProcTable;
use crate::knowledge::privacy::Privacy;
use crate::model::privacy::PrivacyFacts;
use crate::model::{BlindSpot, Server, Socket};

/// What one collection reads for the privacy rules.
pub struct Context<'a> {
    pub table: &'a ProcTable,
    pub knowledge: &'a Privacy,
    pub servers: &'a [Server],
    pub sockets: &'a [Socket],
    pub users: &'a UserNames,
    pub groups: &'a Groups,
    pub collected_at: &'a str,
}

pub fn read(
    cx: &Context,
    first_seen: &mut connections::FirstSeen,
    blind: &mut Vec<BlindSpot>,
) -> PrivacyFacts {
    let mut privacy = PrivacyFacts {
        actors: actors::find(
            cx.table,
            &cx.knowledge.actors,
            cx.servers,
            cx.sockets,
            cx.users,
        ),
        switch_files: switch_files::read(cx.servers, cx.knowledge, cx.users),
        ..Default::default()
    };
    let actor_pids: Vec<u32> = privacy.actors.iter().map(|a| a.pid).collect();
    (privacy.connections, privacy.hosts_names) = connections::read(
        cx.servers,
        cx.sockets,
        &actor_pids,
        cx.collected_at,
        first_seen,
        blind,
    );
    privacy.config_backends = config_backends::read(cx.servers, cx.knowledge, blind);
    privacy.prompt_logs =
        prompt_logs::read(cx.servers, &cx.knowledge.logs, cx.users, cx.groups, blind);
    privacy
}
