//! Running a read inside another network namespace.
//!
//! A short-lived thread joins the namespace of `pid` (setns needs CAP_SYS_ADMIN),
//! does its read there and exits, so no other thread ever changes namespace.
//! Sockets a read opens stay bound to that namespace.

use std::io;

pub fn run_in_netns_of<T: Send>(
    pid: u32,
    f: impl FnOnce() -> io::Result<T> + Send,
) -> io::Result<T> {
    let ns = std::fs::File::open(format!("/proc/{pid}/ns/net"))?;
    std::thread::scope(|s| {
        s.spawn(|| {
            // Changes only this thread's namespace; the thread ends when `f` returns.
            nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET)
                .map_err(io::Error::from)?;
            f()
        })
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("namespace reader thread panicked")))
    })
}
