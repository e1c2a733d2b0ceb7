"""A hostile HTTP responder for the probe tests. Run it under a name aiposture
recognises (a symlink called llama-server) inside a namespace with only lo.

  hostile_server.py PORT MODE LOG
  MODE nasty: /health sends a 10 MB header, /v1/models an endless body of
              invalid UTF-8 (100 MB announced), /props redirects to another host
  MODE slow:  drips one header line every 0.3 s, forever
Every request line and header block received is appended to LOG.
"""
import socket
import sys
import threading
import time

port, mode, log_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
log_lock = threading.Lock()


def handle(c):
    try:
        req = b""
        while b"\r\n\r\n" not in req and len(req) < 65536:
            chunk = c.recv(4096)
            if not chunk:
                break
            req += chunk
        with log_lock, open(log_path, "ab") as f:
            f.write(req.split(b"\r\n\r\n")[0] + b"\n---\n")
        parts = req.split(b" ")
        path = parts[1].decode("latin1") if len(parts) > 1 else "/"
        if mode == "slow":
            c.sendall(b"HTTP/1.1 200 OK\r\n")
            while True:
                c.sendall(b"X-Drip: 1\r\n")
                time.sleep(0.3)
        elif path == "/health":
            c.sendall(b"HTTP/1.1 200 OK\r\nServer: llama.cpp\r\nX-Big: " + b"A" * (10 * 1024 * 1024) + b"\r\n\r\n")
        elif path == "/v1/models":
            c.sendall(b"HTTP/1.1 200 OK\r\nServer: llama.cpp\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 104857600\r\n\r\n")
            chunk = b'\xff\xfe{"owned_by":"llamacpp"}\x00\xc3' * 2048
            for _ in range(104857600 // len(chunk)):
                c.sendall(chunk)
        elif path == "/props":
            c.sendall(b"HTTP/1.1 302 Found\r\nLocation: http://198.51.100.7/props\r\nContent-Length: 0\r\n\r\n")
        else:
            c.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    except OSError:
        pass
    finally:
        c.close()


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(16)
while True:
    conn, _ = s.accept()
    threading.Thread(target=handle, args=(conn,), daemon=True).start()
