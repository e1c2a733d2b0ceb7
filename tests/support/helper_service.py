# A service a Gradio app starts beside its UI (tests/process_tree.rs), bound to
# every interface:
#   python helper_service.py api PORT     FastAPI under uvicorn (both are Gradio's own
#                                         dependencies): /v1/models answers JSON to anyone
#   python helper_service.py locked PORT  the standard library's HTTP server answering
#                                         every request 401 with a Bearer challenge
# and, for uvicorn's own command line (tests/environment.rs):
#   python -m uvicorn --factory helper_service:make_api --host 0.0.0.0 --port PORT
import sys


def make_api():
    import fastapi

    app = fastapi.FastAPI()

    @app.get("/v1/models")
    def models():
        return {"object": "list", "data": [{"id": "helper-model", "object": "model"}]}

    return app


def api(port):
    import uvicorn

    uvicorn.run(make_api(), host="0.0.0.0", port=port, log_level="warning")


def locked(port):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Bearer realm="helper"')
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()


if __name__ == "__main__":
    {"api": api, "locked": locked}[sys.argv[1]](int(sys.argv[2]))
