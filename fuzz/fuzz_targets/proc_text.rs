//! /proc text as the collector reads it: the first byte picks the file, the rest
//! is its content. procfs parses stat, status, maps and the socket tables; the
//! cgroup lines (container and systemd unit) are parsed by aiposture itself.
#![no_main]

use aiposture::collect::privilege::{container_from_cgroup, unit_from_cgroup};
use libfuzzer_sys::fuzz_target;
use procfs::net::{TcpNetEntries, UdpNetEntries};
use procfs::process::{MemoryMaps, Stat, Status};
use procfs::{FromBufReadSI, FromRead};

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let si = procfs::current_system_info();
    match which % 6 {
        0 => drop(Stat::from_read(body)),
        1 => drop(Status::from_read(body)),
        2 => drop(MemoryMaps::from_read(body)),
        3 => drop(TcpNetEntries::from_buf_read(body, si)),
        4 => drop(UdpNetEntries::from_buf_read(body, si)),
        _ => {
            let text = String::from_utf8_lossy(body);
            let _ = container_from_cgroup(&text);
            let _ = unit_from_cgroup(&text);
        }
    }
});
