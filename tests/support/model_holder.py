"""A process that holds model files open, for tests of model directories.

Copied by the test to where a real server's script lives (ComfyUI/main.py,
text-generation-webui/server.py) so that /proc shows that server's command line.
It loads nothing: it opens the files named in HOLD_FILES (os.pathsep-separated),
writes READY_FILE, and sleeps until killed.
"""
import os
import time


def main():
    held = [open(p, "rb") for p in os.environ.get("HOLD_FILES", "").split(os.pathsep) if p]
    with open(os.environ["READY_FILE"], "w") as f:
        f.write(str(len(held)))
    while True:
        time.sleep(60)


if __name__ == "__main__":
    main()
