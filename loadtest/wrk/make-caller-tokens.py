#!/usr/bin/env python3
"""Writes N distinct HS256 caller tokens (one per simulated site user), one per line, for token.lua.

Usage: make-caller-tokens.py SECRET N LIFETIME_SECONDS > tokens.txt
Standard library only: hmac, hashlib, base64, json.
"""
import base64, hashlib, hmac, json, sys, time

def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

def main() -> None:
    secret, count, lifetime = sys.argv[1].encode(), int(sys.argv[2]), int(sys.argv[3])
    now = int(time.time())
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    for user in range(count):
        claims = {"sub": f"user-{user}", "iat": now, "exp": now + lifetime}
        payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = f"{header}.{payload}".encode()
        signature = b64url(hmac.new(secret, signing_input, hashlib.sha256).digest())
        print(f"{header}.{payload}.{signature}")

if __name__ == "__main__":
    main()
