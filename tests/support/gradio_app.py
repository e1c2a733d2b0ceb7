# A minimal real Gradio app for tests/privacy.rs and tests/process_tree.rs: a plain
# `python gradio_app.py`, as most Gradio apps run. The port comes from APP_PORT;
# APP_CHILD, when set, is started as a child first (a share-tunnel client
# stand-in); APP_HELPERS, a JSON list of argv lists, are started as children too
# (services an app starts beside its UI).
import json
import os
import subprocess

import gradio as gr

child = os.environ.get("APP_CHILD")
if child:
    subprocess.Popen([child, "3600"])
for argv in json.loads(os.environ.get("APP_HELPERS", "[]")):
    subprocess.Popen(argv)

with gr.Blocks() as demo:
    gr.Markdown("aiposture privacy test")

demo.launch(server_name="127.0.0.1", server_port=int(os.environ["APP_PORT"]))
