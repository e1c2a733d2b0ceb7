"""A process that looks like `python -m llama_cpp.server` to /proc, for tests.

Not llama-cpp-python: it serves nothing. It exists to give aiposture a real
process tree and real kernel objects to join: files written by the real writers
(numpy.save, safetensors, stdlib pickle) held open, a GGUF under a lying extension, a
dual-stack wildcard TCP listener with an IPv4-mapped connection, a UDP socket,
and a multiprocessing worker. Run it only inside a test's network namespace.
"""
import multiprocessing
import os
import pickle
import shutil
import socket
import sys
import time

import numpy as np
from safetensors.numpy import save_file


class Payload:
    """__reduce__ names os.system: what a malicious checkpoint does."""

    def __reduce__(self):
        return (os.system, ("echo pwned",))


def main():
    d = os.environ["STANDIN_DIR"]
    np.save(os.path.join(d, "weights.npy"), np.arange(16, dtype=np.float32))
    save_file({"w": np.ones((4, 4), dtype=np.float32)}, os.path.join(d, "adapter.safetensors"))
    with open(os.path.join(d, "model.pt"), "wb") as f:
        pickle.dump({"w": [1.0, 2.0]}, f, protocol=4)
    shutil.copy(os.environ["STANDIN_GGUF"], os.path.join(d, "renamed.bin"))
    # A checkpoint whose unpickling would run a command. Only dumped, never loaded.
    with open(os.path.join(d, "evil.pt"), "wb") as f:
        f.write(pickle.dumps(Payload(), protocol=2))
    held = [open(os.path.join(d, n), "rb") for n in ("weights.npy", "adapter.safetensors", "model.pt", "renamed.bin", "evil.pt")]

    tcp = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    tcp.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    tcp.bind(("::", 9000))
    tcp.listen()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 9001))
    client = socket.create_connection(("127.0.0.1", 9000))
    accepted, _ = tcp.accept()

    multiprocessing.set_start_method("spawn")
    # A picklable target: under spawn, functions of a -m __main__ are not.
    p = multiprocessing.Process(target=time.sleep, args=(3600,))
    p.start()
    # Written whole, then renamed: the test never reads a half-written file.
    with open(os.path.join(d, "ready.tmp"), "w") as f:
        f.write(str(p.pid))
    os.rename(os.path.join(d, "ready.tmp"), os.path.join(d, "ready"))
    time.sleep(3600)
    del held, client, accepted


if __name__ == "__main__":
    sys.exit(main())
