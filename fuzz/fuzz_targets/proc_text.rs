//! /proc text as the collector reads it: the first byte picks the file, the rest
//! is its content. procfs parses stat, status, maps and the socket tables; the
//! cgroup lines (container and systemd unit) are parsed by aiposture itself.
//!
//! stat is given the kernel's shape, `PID (COMM) REST`: the pid is printed by the
//! kernel, the name (up to 15 bytes, anything but NUL and '/') is what a local user
//! controls. procfs-core 0.18 panics on two shapes /proc never produces (found by
//! this target, 2026-12-01): non-ASCII bytes before '(' (a byte index inside a
//! replacement character), and nothing or another ')' after the name's closing
//! ')' (a slice past the end).
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
        0 => drop(Stat::from_read(&kernel_stat(body)[..])),
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

fn kernel_stat(body: &[u8]) -> Vec<u8> {
    let (pid, rest) = body.split_at(body.len().min(4));
    let pid = pid.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b)) % 4_194_304;
    let (comm, rest) = rest.split_at(rest.len().min(15));
    let mut out = format!("{pid} (").into_bytes();
    out.extend(comm.iter().filter(|&&b| b != 0 && b != b'/'));
    // The kernel always prints the state after the name: procfs slices past it.
    out.extend_from_slice(b") R ");
    // Then only numbers: a ')' there would be taken for the end of the name.
    out.extend(rest.iter().map(|&b| match b % 12 {
        10 => b' ',
        11 => b'-',
        d => b'0' + d,
    }));
    out
}
