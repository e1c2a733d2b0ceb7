//! Running a read inside another network namespace.
//!
//! A short-lived thread joins the namespace of `pid` (setns needs CAP_SYS_ADMIN),
//! does its read there and exits, so no other thread ever changes namespace.
//! Sockets a read opens stay bound to that namespace.

use std::io;
use std::os::fd::AsRawFd;

pub fn run_in_netns_of<T: Send>(
    pid: u32,
    f: impl FnOnce() -> io::Result<T> + Send,
) -> io::Result<T> {
    let ns = std::fs::File::open(format!("/proc/{pid}/ns/net"))?;
    std::thread::scope(|s| {
        s.spawn(|| {
            // SAFETY: setns on a valid fd; it changes only this thread's namespace,
            // and the thread ends when `f` returns.
            if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                return Err(io::Error::last_os_error());
            }
            f()
        })
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("namespace reader thread panicked")))
    })
}
