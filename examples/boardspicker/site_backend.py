#!/usr/bin/env python3
"""A tiny stand-in for your site's backend, for the BoardsPicker example.

It plays the part of the site's login: it serves the static page in ./site, tells the page where
tokenmint is (GET /config), and hands the page a short-lived *site user token* (POST /login): an
HS256 JWT signed with the caller secret that tokenmint trusts (CALLER_JWT_HS256_SECRET).

Python 3 standard library only. Not a production server: there is no real login here, anyone who
can reach it gets a user token. Your real site issues its user tokens after its own sign-in.

Settings (command line, or the environment variable in brackets):

  --host           [SITE_HOST]                 where to listen (default 127.0.0.1)
  --port           [SITE_PORT]                 port; 0 picks a free one (default 8000)
  --caller-secret  [CALLER_JWT_HS256_SECRET]   the secret tokenmint verifies user tokens with (>= 32 bytes)
  --tokenmint-url  [TOKENMINT_URL]             tokenmint's base URL as the *browser* reaches it
  --client-id      [MIRO_CLIENT_ID]            the Miro app client ID (public; the picker needs it)
  --user-token-ttl [SITE_USER_TOKEN_TTL]       lifetime of a user token in seconds (default 300)
  --listen-fd      (tests, supervisors)        serve on an already bound and listening socket
                                               inherited as this file descriptor instead of --host/--port

Routes:

  GET  /, /index.html, /app.js    the example page (files of ./site)
  GET  /config                    {"tokenmintUrl": ..., "clientId": ...}
  POST /login                     {"token": "<site user token>", "expiresIn": <seconds>}
  POST /login?expired=1           DEMO AFFORDANCE: a user token that expired a minute ago, to show
                                  tokenmint's 401 path in the page (open the page as /?expired=1)

On start it prints one line `listening on http://HOST:PORT` to stdout.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import socket
import sys
import time
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SITE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "site")
STATIC_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign_hs256(claims: dict, secret: bytes) -> str:
    """A compact HS256 JWS over `claims`, as any JWT library would make it."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


def user_token(secret: bytes, ttl: int, expired: bool = False) -> tuple:
    now = int(time.time())
    if expired:
        # Well past tokenmint's 5 s leeway: issued 6 minutes ago, expired a minute ago.
        iat, exp = now - ttl - 60, now - 60
    else:
        iat, exp = now, now + ttl
    sub = f"demo-visitor-{uuid.uuid4().hex[:8]}"
    return sign_hs256({"sub": sub, "iat": iat, "exp": exp}, secret), exp - now


class SiteHandler(BaseHTTPRequestHandler):
    server_version = "boardspicker-example-site"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # one short line per request, on stderr
        sys.stderr.write("site %s %s\n" % (self.address_string(), format % args))

    def send_body(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status: int, value: dict) -> None:
        self.send_body(status, json.dumps(value).encode(), "application/json")

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/config":
            settings = self.server.settings
            return self.send_json(200, {"tokenmintUrl": settings.tokenmint_url, "clientId": settings.client_id})
        if url.path in STATIC_FILES:
            name, content_type = STATIC_FILES[url.path]
            with open(os.path.join(SITE_DIR, name), "rb") as file:
                return self.send_body(200, file.read(), content_type)
        if url.path == "/favicon.ico":
            return self.send_body(204, b"", "image/x-icon")
        self.send_json(404, {"error": "not found"})

    do_HEAD = do_GET

    def do_POST(self):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > 4096:
            return self.send_json(413, {"error": "body too large"})
        self.rfile.read(length)
        if url.path != "/login":
            return self.send_json(404, {"error": "not found"})
        settings = self.server.settings
        expired = parse_qs(url.query).get("expired", ["0"])[0] == "1"
        token, expires_in = user_token(settings.caller_secret, settings.user_token_ttl, expired)
        self.send_json(200, {"token": token, "expiresIn": expires_in})


def parse_settings(argv):
    env = os.environ
    parser = argparse.ArgumentParser(description="Example site backend for tokenmint's BoardsPicker example.")
    parser.add_argument("--host", default=env.get("SITE_HOST", "127.0.0.1"), help="where to listen [SITE_HOST] (127.0.0.1)")
    parser.add_argument("--port", type=int, default=int(env.get("SITE_PORT", "8000")), help="port, 0 for a free one [SITE_PORT] (8000)")
    parser.add_argument("--listen-fd", type=int, default=None, help="serve on this inherited, bound and listening socket (tests)")
    parser.add_argument("--caller-secret", default=env.get("CALLER_JWT_HS256_SECRET"), help="HS256 secret of user tokens, as tokenmint's [CALLER_JWT_HS256_SECRET]")
    parser.add_argument("--tokenmint-url", default=env.get("TOKENMINT_URL", "http://127.0.0.1:8080"), help="tokenmint as the browser reaches it [TOKENMINT_URL] (http://127.0.0.1:8080)")
    parser.add_argument("--client-id", default=env.get("MIRO_CLIENT_ID"), help="the Miro app client ID [MIRO_CLIENT_ID]")
    parser.add_argument("--user-token-ttl", type=int, default=int(env.get("SITE_USER_TOKEN_TTL", "300")), help="user token lifetime in seconds [SITE_USER_TOKEN_TTL] (300)")
    settings = parser.parse_args(argv)
    if not settings.caller_secret or len(settings.caller_secret.encode()) < 32:
        parser.error("--caller-secret (CALLER_JWT_HS256_SECRET) is required, at least 32 bytes")
    if not settings.client_id:
        parser.error("--client-id (MIRO_CLIENT_ID) is required")
    settings.caller_secret = settings.caller_secret.encode()
    settings.tokenmint_url = settings.tokenmint_url.rstrip("/")
    return settings


def main(argv=None):
    settings = parse_settings(argv)
    if settings.listen_fd is not None:
        server = ThreadingHTTPServer(("127.0.0.1", 0), SiteHandler, bind_and_activate=False)
        server.socket.close()
        server.socket = socket.socket(fileno=settings.listen_fd)
        server.server_address = server.socket.getsockname()
        server.socket.listen(64)
    else:
        server = ThreadingHTTPServer((settings.host, settings.port), SiteHandler)
    server.daemon_threads = True
    server.settings = settings
    host, port = server.server_address[:2]
    print(f"listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
