#!/usr/bin/env python3
"""A real HTTPS server for Vigie's integration tests: serves a short HTML
page at every path over TLS with the certificate and key it is given (the
tests make a self-signed one with openssl). Prints "PORT <n>" on stdout once
it listens on 127.0.0.1, then serves until killed.

  python3 tests/https_server.py CERT KEY
"""
import http.server
import ssl
import sys


class Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = "<html><body><h1>Appels à projets</h1></body></html>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    cert, key = sys.argv[1], sys.argv[2]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
