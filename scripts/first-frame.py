#!/usr/bin/env python3
"""Cold start to first frame of a terminal program, in a pseudo-terminal of a fixed size.

    first-frame.py [--runs N] [--cols C] [--rows R] [--timeout S]
                   --marker NAME=REGEX [--marker NAME=REGEX ...] -- PROGRAM [ARGS...]

Each run spawns PROGRAM as a new process (fork + exec: "cold" means a new process, not an
empty page cache) on a fresh pty of C×R, reads what it writes, and records for every marker
the seconds from just before the fork to the first moment the program's output (escape
sequences removed) matches its REGEX. When every marker has matched, the program's whole
process group is sent SIGTERM (SIGKILL after 2 s) and reaped before the next run starts.

Markers are matched on the output stream, not on an emulated screen: a TUI that repaints only
changed cells may skip spaces, so write regexes with \\s* where a blank might be skipped. The
terminal's replies to a cursor-position (ESC[6n) or device-attributes (ESC[c) query are
given, so that a program that asks does not wait for a timeout.

Prints JSON: {"runs": N, "markers": {NAME: [seconds per run, ...]}, "median": {NAME: s}}.
A run in which a marker never matched within --timeout is an error (exit status 1).
"""
import argparse
import fcntl
import json
import os
import pty
import re
import select
import signal
import statistics
import struct
import sys
import termios
import time

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), charset selection, other two-byte escapes.
ESCAPES = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78DEHMNOZc]|[\x00-\x08\x0e-\x1f]"
)


def one_run(argv, cols, rows, markers, timeout):
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        # Child: the pty is its controlling terminal (pty.fork called setsid). Size it before
        # exec so that the program's first size query already sees C×R.
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    seen = {}
    raw = bytearray()
    text = ""
    try:
        deadline = start + timeout
        while len(seen) < len(markers):
            left = deadline - time.perf_counter()
            if left <= 0:
                break
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the program exited and closed the pty
                break
            if not chunk:
                break
            now = time.perf_counter()
            raw += chunk
            if b"\x1b[6n" in chunk:
                os.write(fd, b"\x1b[1;1R")
            if b"\x1b[c" in chunk or b"\x1b[0c" in chunk:
                os.write(fd, b"\x1b[?62;22c")
            # Strip escapes from the whole stream: a sequence may be split across reads.
            text = ESCAPES.sub(b"", bytes(raw)).decode("utf-8", "replace")
            for name, rx in markers.items():
                if name not in seen and rx.search(text):
                    seen[name] = now - start
    finally:
        stop(pid)
        drain_and_close(fd)
    missing = [n for n in markers if n not in seen]
    if missing:
        tail = text[-2000:]
        raise SystemExit(
            f"first-frame: {' '.join(argv)}: no match for {missing} within {timeout} s; "
            f"last output (escapes removed):\n{tail}"
        )
    return seen


def stop(pid):
    for sig, wait in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            pass
        end = time.perf_counter() + wait
        while time.perf_counter() < end:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                return
            time.sleep(0.01)
    os.waitpid(pid, 0)


def drain_and_close(fd):
    try:
        while select.select([fd], [], [], 0)[0]:
            if not os.read(fd, 65536):
                break
    except OSError:
        pass
    os.close(fd)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--cols", type=int, default=120)
    ap.add_argument("--rows", type=int, default=40)
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--marker", action="append", required=True, metavar="NAME=REGEX")
    ap.add_argument("argv", nargs="+")
    a = ap.parse_args()
    markers = {}
    for m in a.marker:
        name, _, rx = m.partition("=")
        markers[name] = re.compile(rx)
    times = {n: [] for n in markers}
    for _ in range(a.runs):
        for n, t in one_run(a.argv, a.cols, a.rows, markers, a.timeout).items():
            times[n].append(t)
    json.dump(
        {
            "runs": a.runs,
            "markers": times,
            "median": {n: statistics.median(v) for n, v in times.items()},
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
