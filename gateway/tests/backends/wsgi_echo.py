"""A stock WSGI backend for the gateway's tests: Python's own wsgiref server
answering every request with the CGI-style environ it built (HTTP_* keys), so
a test sees what a Django or Flask app would read from request.META. wsgiref
maps `-` and `_` in header names to the same HTTP_* key, as CGI does.

Loopback only. Prints its port on stdout, then serves until stdin closes or
it has run for LIFETIME_SECONDS, whichever comes first, and stops by itself.
"""

import json
import sys
import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

LIFETIME_SECONDS = 300


def app(environ, start_response):
    seen = {k: v for k, v in environ.items() if k.startswith("HTTP_")}
    body = json.dumps({"environ": seen, "path": environ.get("PATH_INFO", "")}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def main():
    server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    print(server.server_port, flush=True)
    stop = threading.Event()

    def until_stdin_closes():
        sys.stdin.read()
        stop.set()

    threading.Thread(target=until_stdin_closes, daemon=True).start()
    timer = threading.Timer(LIFETIME_SECONDS, stop.set)
    timer.daemon = True
    timer.start()
    threading.Thread(target=lambda: (stop.wait(), server.shutdown()), daemon=True).start()
    server.serve_forever()
    server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
