#!/usr/bin/env python3
"""Starts a real tokenmint binary with the settings a rendered overlay gives its pods (called by validate.sh).

    settings-smoke.py BINARY RENDERED.yaml [RENDERED.yaml ...]

For each rendered file: takes the tokenmint-settings ConfigMap, writes the Secret's keys (the overlay's own
Secret if it has one, else random 48-byte stand-ins for every key a *_FILE setting names) into a temp dir in
place of /run/secrets/tokenmint, points REDIS_URL at a redis-server it starts on a free loopback port with the
password from REDIS_PASSWORD_FILE, runs the binary on a free loopback port, and requires /readyz 200 with
"redis":"ok" (or "disabled" without REDIS_URL) within 15 s, then SIGTERM and exit 0. Every process it starts
is stopped; every wait is bounded. Proves the manifests' variable names, file paths and secret keys are ones
the binary accepts. Prints one line per file; exits 1 on any failure.
"""
import base64, os, secrets, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request
import yaml

MOUNT = "/run/secrets/tokenmint"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(process, grace):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    return process.returncode


def smoke(binary, rendered):
    docs = [d for d in yaml.safe_load_all(open(rendered)) if d]
    settings = next(d["data"] for d in docs if d["kind"] == "ConfigMap"
                    and d["metadata"]["name"].startswith("tokenmint-settings"))
    secret = next((d for d in docs if d["kind"] == "Secret"
                   and d["metadata"]["name"].startswith("tokenmint-secrets")), None)
    work = tempfile.mkdtemp(prefix="tokenmint-settings-smoke.")
    processes = []
    try:
        secret_dir = os.path.join(work, "secrets")
        os.mkdir(secret_dir, 0o700)
        if secret:
            for key, value in secret.get("data", {}).items():
                open(os.path.join(secret_dir, key), "wb").write(base64.b64decode(value))
        env = {"PATH": "/usr/bin:/bin", "HOME": work}
        for key, value in settings.items():
            if key.endswith("_FILE") and value.startswith(MOUNT + "/"):
                path = os.path.join(secret_dir, value[len(MOUNT) + 1:])
                if not os.path.exists(path):      # no Secret in this overlay: a stand-in value
                    open(path, "w").write(secrets.token_urlsafe(48))
                value = path
            env[key] = value
        port = free_port()
        env.update(HOST="127.0.0.1", PORT=str(port))
        expected_redis = "disabled"
        if "REDIS_URL" in env:
            redis_port = free_port()
            password = open(env["REDIS_PASSWORD_FILE"]).read().strip() if "REDIS_PASSWORD_FILE" in env else ""
            conf = os.path.join(work, "redis.conf")
            with open(conf, "w") as f:
                f.write(f"port {redis_port}\nbind 127.0.0.1\nsave \"\"\nappendonly no\ndir {work}\n")
                if password:
                    f.write(f"requirepass {password}\n")
            processes.append(subprocess.Popen(["redis-server", conf], stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL))
            env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
            expected_redis = "ok"
        log = open(os.path.join(work, "tokenmint.log"), "wb")
        tokenmint = subprocess.Popen([binary], env=env, stdout=log, stderr=subprocess.STDOUT)
        processes.append(tokenmint)
        deadline, body = time.monotonic() + 15, ""
        while time.monotonic() < deadline and tokenmint.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as response:
                    body = response.read().decode()
                    if f'"redis":"{expected_redis}"' in body:
                        break
            except OSError:
                pass
            time.sleep(0.2)
        code = stop(tokenmint, 15)
        ok = f'"redis":"{expected_redis}"' in body and code == 0
        tail = "" if ok else " | " + open(os.path.join(work, "tokenmint.log"), errors="replace").read()[-400:]
        print(f"{'ok  ' if ok else 'FAIL'}  {os.path.basename(rendered)}: /readyz {body or 'no answer'}, "
              f"exit {code} after SIGTERM{tail}")
        return ok
    finally:
        for process in processes:
            stop(process, 5)
        shutil.rmtree(work, ignore_errors=True)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binary = sys.argv[1]
    results = [smoke(binary, rendered) for rendered in sys.argv[2:]]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
