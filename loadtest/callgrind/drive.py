#!/usr/bin/env python3
"""Sends exactly N `POST /v1/token` requests over C keep-alive connections (one in flight on each), each with
the next of U distinct HS256 caller tokens, and fails unless every answer is 200. Its speed does not matter:
it drives a server running under callgrind, where instructions, not seconds, are counted.

Usage: drive.py PORT N [--connections C] [--users U] [--secret S]
"""
import argparse, base64, hashlib, hmac, json, selectors, socket, sys, time


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def hs256(claims, secret):
    signing = b64url(b'{"alg":"HS256","typ":"JWT"}') + "." + b64url(json.dumps(claims, separators=(",", ":")).encode())
    return signing + "." + b64url(hmac.new(secret.encode(), signing.encode(), hashlib.sha256).digest())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("n", type=int)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--users", type=int, default=2000)
    p.add_argument("--secret", default="c" * 64)
    a = p.parse_args()
    now = int(time.time())
    requests = [
        (
            "POST /v1/token HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
            + hs256({"sub": f"user-{i}", "iat": now, "exp": now + 3600}, a.secret)
            + "\r\nContent-Length: 0\r\n\r\n"
        ).encode()
        for i in range(a.users)
    ]
    sel = selectors.DefaultSelector()
    sent = done = bad = 0
    conns = []
    for _ in range(min(a.connections, a.n)):
        s = socket.create_connection(("127.0.0.1", a.port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conns.append(s)
        sel.register(s, selectors.EVENT_READ, bytearray())

    def send(s):
        nonlocal sent
        s.sendall(requests[sent % len(requests)])
        sent += 1

    for s in conns:
        send(s)
    deadline = time.time() + 3600
    while done < a.n and time.time() < deadline:
        for key, _ in sel.select(timeout=30):
            s, buf = key.fileobj, key.data
            chunk = s.recv(65536)
            if not chunk:
                sys.exit(f"connection closed after {done} answers")
            buf += chunk
            while True:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    break
                head = bytes(buf[:end]).decode("latin-1")
                length = 0
                for line in head.split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                if len(buf) < end + 4 + length:
                    break
                if not head.startswith("HTTP/1.1 200"):
                    bad += 1
                del buf[: end + 4 + length]
                done += 1
                if sent < a.n:
                    send(s)
    if done < a.n or bad:
        sys.exit(f"answers {done}/{a.n}, not 200: {bad}")
    print(f"{done} answers, all 200")


main()
