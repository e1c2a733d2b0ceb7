//! Fuzz bytes given the shape the kernel prints `/proc/PID/stat` in, shared by
//! the `proc_text` target and tests/fuzz_regressions.rs, which replays its crashes.

/// `PID (COMM) R NUMBERS`: the pid from the first four bytes, a name of up to
/// 15 bytes (anything but NUL and '/', what a local user controls), then the
/// state and only numbers, as the kernel always prints them.
pub fn kernel_stat(body: &[u8]) -> Vec<u8> {
    let (pid, rest) = body.split_at(body.len().min(4));
    let pid = pid.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b)) % 4_194_304;
    let (comm, rest) = rest.split_at(rest.len().min(15));
    let mut out = format!("{pid} (").into_bytes();
    out.extend(comm.iter().filter(|&&b| b != 0 && b != b'/'));
    // procfs slices past the state after the name.
    out.extend_from_slice(b") R ");
    // A ')' here would be taken for the end of the name.
    out.extend(rest.iter().map(|&b| match b % 12 {
        10 => b' ',
        11 => b'-',
        d => b'0' + d,
    }));
    out
}
