"""The far end for the egress test: accepts TCP on every port given and holds
each connection. Writes $PEER_DIR/peer-ready once listening."""
import os
import selectors
import socket
import sys


def main():
    sel = selectors.DefaultSelector()
    for port in sys.argv[1:]:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", int(port)))
        s.listen()
        sel.register(s, selectors.EVENT_READ)
    d = os.environ["PEER_DIR"]
    open(os.path.join(d, "peer-ready"), "w").close()
    held = []
    while True:
        for key, _ in sel.select():
            held.append(key.fileobj.accept()[0])


if __name__ == "__main__":
    sys.exit(main())
