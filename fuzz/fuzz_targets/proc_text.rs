//! /proc text as the collector reads it: the first byte picks the file, the rest
//! is its content. procfs parses stat, status and the socket tables; maps and
//! the cgroup lines (container and systemd unit) are parsed by aiposture itself,
//! from any bytes.
//!
//! stat is given the kernel's shape, `PID (COMM) REST`: the pid is printed by the
//! kernel, the name (up to 15 bytes, anything but NUL and '/') is what a local user
//! controls. procfs-core 0.18 panics on two shapes /proc never produces (found by
//! this target, 2026-12-01): non-ASCII bytes before '(' (a byte index inside a
//! replacement character), and nothing or another ')' after the name's closing
//! ')' (a slice past the end). Its maps reader also rejected non-UTF-8 file
//! names and panicked on short `/SYSV` names, so the collector reads maps with
//! `collect::maps` (fed raw bytes here).
#![no_main]

use aiposture::collect::procs::maps;
use aiposture::collect::procs::privilege::{container_from_cgroup, unit_from_cgroup};
use libfuzzer_sys::fuzz_target;
use procfs::net::{TcpNetEntries, UdpNetEntries};
use procfs::process::{Stat, Status};
use procfs::{FromBufReadSI, FromRead};

#[path = "../kernel_shape.rs"]
mod kernel_shape;
use kernel_shape::kernel_stat;

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let si = procfs::current_system_info();
    match which % 6 {
        0 => drop(Stat::from_read(&kernel_stat(body)[..])),
        1 => drop(Status::from_read(body)),
        2 => drop(maps::parse(body)),
        3 => drop(TcpNetEntries::from_buf_read(body, si)),
        4 => drop(UdpNetEntries::from_buf_read(body, si)),
        _ => {
            let text = String::from_utf8_lossy(body);
            let _ = container_from_cgroup(&text);
            let _ = unit_from_cgroup(&text);
        }
    }
});
