# A minimal real Gradio app for tests/privacy.rs: a plain `python gradio_app.py`,
# as most Gradio apps run. The port comes from APP_PORT; APP_CHILD, when set, is
# started as a child first (a share-tunnel client stand-in).
import os
import subprocess

import gradio as gr

child = os.environ.get("APP_CHILD")
if child:
    subprocess.Popen([child, "3600"])

with gr.Blocks() as demo:
    gr.Markdown("aiposture privacy test")

demo.launch(server_name="127.0.0.1", server_port=int(os.environ["APP_PORT"]))
