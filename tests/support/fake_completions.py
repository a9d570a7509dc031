#!/usr/bin/env python3
"""A fake OpenAI-compatible /v1/completions endpoint for the examples' tests.

Binds 127.0.0.1 on a free port, prints the port on stdout, records each request body (JSON) to
RECORD_FILE and answers with server-sent events: one event per piece of PIECES (comma-separated),
then "data: [DONE]". Exits after SERVE_SECONDS (default 30) so a crashed test leaves nothing.

Usage: fake_completions.py RECORD_FILE PIECES [SERVE_SECONDS]
"""
import http.server
import json
import sys
import threading


def main():
    record, pieces = sys.argv[1], sys.argv[2].split(",")
    lifetime = float(sys.argv[3]) if len(sys.argv) > 3 else 30.0

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with open(record, "ab") as f:
                f.write(body + b"\n")
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for piece in pieces:
                event = {"choices": [{"text": piece, "index": 0}]}
                self.wfile.write(b"data: " + json.dumps(event).encode() + b"\n\n")
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    threading.Timer(lifetime, server.shutdown).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
