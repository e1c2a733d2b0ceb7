"""A process that looks like `python -m llama_cpp.server` to /proc and holds
connections out, for the egress test. Run it only inside a test's namespace.

EGRESS_TCP: comma-separated host:port to connect to (TCP) and hold.
EGRESS_UDP: host:port for a connected UDP socket (connect() sends nothing).
EGRESS_WORKER_TCP: host:port a forked worker connects to and holds.
EGRESS_LISTEN: port it listens on (0.0.0.0) and accepts on, so an inbound
connection exists to be told apart from egress.
It also holds a loopback connection to itself. Writes "<worker pid>" to
$EGRESS_DIR/ready (renamed into place) once everything is open.
"""
import os
import socket
import sys
import time


def addr(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


def main():
    d = os.environ["EGRESS_DIR"]
    held = []
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", int(os.environ["EGRESS_LISTEN"])))
    listener.listen()
    held.append(listener)
    held.append(socket.create_connection(("127.0.0.1", int(os.environ["EGRESS_LISTEN"]))))
    held.append(listener.accept()[0])
    for target in os.environ["EGRESS_TCP"].split(","):
        held.append(socket.create_connection(addr(target), timeout=5))
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.connect(addr(os.environ["EGRESS_UDP"]))
    held.append(udp)

    r, w = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(r)
        conn = socket.create_connection(addr(os.environ["EGRESS_WORKER_TCP"]), timeout=5)
        os.write(w, b"x")
        time.sleep(3600)
        del conn
        os._exit(0)
    os.close(w)
    os.read(r, 1)
    with open(os.path.join(d, "ready.tmp"), "w") as f:
        f.write(str(child))
    os.rename(os.path.join(d, "ready.tmp"), os.path.join(d, "ready"))
    # Inbound clients of the listener are accepted as they come.
    while True:
        held.append(listener.accept()[0])
        with open(os.path.join(d, "inbound"), "w") as f:
            f.write(str(len(held)))


if __name__ == "__main__":
    sys.exit(main())
