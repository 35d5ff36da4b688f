"""A fixture app: answers every request with its name on $PORT."""
import http.server
import os


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"fixture-python-app\n")


http.server.HTTPServer(("", int(os.environ.get("PORT", "8000"))), Handler).serve_forever()
