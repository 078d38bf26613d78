#!/usr/bin/env python3
"""The BoardsPicker example in a real browser: headless Chromium, driven by Selenium.

Starts tokenmint (the built binary), the example site backend on an origin tokenmint allows, the same
backend on a second origin it does not allow, and a third whose tokenmint URL points at a closed port;
then loads the unchanged page in headless Chromium and walks every state a visitor can meet.

Miro's BoardsPicker script cannot be fetched offline. The test alone provides a stand-in: the real URL
is blocked (CDP Network.setBlockedURLs) and a stand-in `miroBoardsPicker` is injected into every new
document (CDP Page.addScriptToEvaluateOnNewDocument). Its open() records the options it was given,
calls the page's getToken(), records the token or the error on `window.__miroStandIn`, and then calls
the page's success({embedHtml}) or error(e), or cancel() when told to.

Run: python3 test_browser.py          (exit 0 when every check passed; the last line is `N passed, M failed`)
Environment:
  TOKENMINT_BINARY     the tokenmint executable (default /work/main/.build/debug/tokenmint, else
                       <repo>/.build/debug/tokenmint)
  BROWSER_TEST_OUTPUT  where screenshots and process logs go (default: a new temporary directory)
  CHROMIUM_BINARY, CHROMEDRIVER   default /usr/bin/chromium, /usr/bin/chromedriver
Needs: Debian packages chromium and chromium-driver; `pip install -r requirements.txt` (selenium).
"""

import base64
import ctypes
import hashlib
import hmac
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TOTAL_SECONDS = 150  # the whole run, browser included (about 5 s on an idle machine; the Swift test allows 180 s)
WAIT_SECONDS = 15    # any single wait for the page

CLIENT_ID = "3458764500000000042"
CLIENT_SECRET = "client-" + secrets.token_hex(24)   # fresh per run, >= 32 bytes
CALLER_SECRET = "caller-" + secrets.token_hex(24)   # differs from the client secret
MIRO_SCRIPT = "https://miro.com/app/static/boardsPicker.1.0.js"

STAND_IN = r"""
(() => {
  const standIn = {
    mode: 'success',      // 'success' (call getToken, then success or error) or 'cancel'
    hold: false,          // true: open() waits for release(), so the test can see the picker-open state
    calls: [],
    held: null,
    release() { const run = this.held; this.held = null; if (run) run(); return !!run; },
  };
  Object.defineProperty(window, '__miroStandIn', { value: standIn });
  const embedHtml = '<iframe data-stand-in-board="uXjVStandIn=" width="640" height="300" frameborder="0" ' +
    'srcdoc="<body style=&quot;margin:0;display:grid;place-items:center;height:100vh;background:#ffd02f;' +
    'font:22px sans-serif&quot;>Stand-in Miro board uXjVStandIn=</body>"></iframe>';
  window.miroBoardsPicker = {
    open(options) {
      const windowRef = options.windowRef;
      const call = {
        clientId: options.clientId,
        action: options.action,
        allowCreateAnonymousBoards: options.allowCreateAnonymousBoards,
        functions: ['getToken', 'success', 'error', 'cancel'].filter((k) => typeof options[k] === 'function'),
        windowRefOpen: !!(windowRef && windowRef.closed === false),
        // Set only while the click event is being dispatched: open() (and the page's window.open just
        // before it) ran synchronously in the click handler, not after an await.
        inClickHandler: !!(window.event && window.event.type === 'click'),
        token: null, error: null, outcome: null,
      };
      standIn.calls.push(call);
      const closePopup = () => { try { if (windowRef && !windowRef.closed) windowRef.close(); } catch (e) {} };
      const run = () => {
        if (standIn.mode === 'cancel') {
          call.outcome = 'cancel'; closePopup(); options.cancel(); return;
        }
        Promise.resolve().then(() => options.getToken()).then(
          (token) => {
            call.token = token; call.outcome = 'success'; closePopup();
            options.success({ id: 'uXjVStandIn=', embedHtml });
          },
          (e) => {
            call.error = String((e && e.message) || e); call.outcome = 'error';
            options.error(e);
          });
      };
      if (standIn.hold) standIn.held = run; else setTimeout(run, 0);
    },
  };
})();
"""


class CheckFailed(Exception):
    pass


class RunTimeout(BaseException):
    pass


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


# --- JWT, verified independently of tokenmint ---------------------------------------------------

def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def verify_miro_token(token):
    """HS256 with the client secret, iss = client ID, exp in the future and within 24 h. Returns the claims."""
    parts = token.split(".")
    expect(len(parts) == 3, f"the page's token is not a compact JWS: {token[:40]!r}...")
    header = json.loads(b64url_decode(parts[0]))
    claims = json.loads(b64url_decode(parts[1]))
    expect(header.get("alg") == "HS256", f"token header alg is {header.get('alg')!r}, not HS256")
    expected = hmac.new(CLIENT_SECRET.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    expect(hmac.compare_digest(expected, b64url_decode(parts[2])), "token signature does not verify with the client secret")
    expect(claims.get("iss") == CLIENT_ID, f"token iss is {claims.get('iss')!r}, not the client ID {CLIENT_ID}")
    now = time.time()
    exp = claims.get("exp")
    expect(isinstance(exp, (int, float)) and exp > now, f"token exp {exp!r} is not in the future (now {int(now)})")
    expect(exp <= now + 86400, f"token exp {exp!r} is more than 24 hours ahead")
    return claims


def expired_caller_token():
    now = int(time.time())
    header = b64url(b'{"alg":"HS256","typ":"JWT"}')
    payload = b64url(json.dumps({"sub": "probe", "iat": now - 400, "exp": now - 60}).encode())
    mac = hmac.new(CALLER_SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(mac)}"


# --- processes ---------------------------------------------------------------------------------

def _die_with_parent():
    """In the child: signals unblocked, and SIGTERM when the test process dies, however it dies (Linux)."""
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class Processes:
    def __init__(self, output):
        self.output = output
        self.children = []  # (name, Popen, log path)

    def start(self, name, argv, env=None, pass_fds=()):
        log_path = os.path.join(self.output, f"{name}.log")
        log = open(log_path, "wb")
        process = subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            pass_fds=pass_fds, preexec_fn=_die_with_parent)
        log.close()
        self.children.append((name, process, log_path))
        return process, log_path

    @staticmethod
    def wait_for_line(name, process, log_path, pattern, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(log_path, "r", errors="replace") as file:
                for line in file:
                    match = re.search(pattern, line)
                    if match:
                        return match
            if process.poll() is not None:
                raise CheckFailed(f"{name} exited early with status {process.returncode}:\n{Processes.tail(log_path)}")
            time.sleep(0.05)
        raise CheckFailed(f"{name}: no line matching {pattern!r} within {timeout} s:\n{Processes.tail(log_path)}")

    @staticmethod
    def tail(log_path, lines=15):
        try:
            with open(log_path, "r", errors="replace") as file:
                return "".join(file.readlines()[-lines:])
        except OSError:
            return ""

    def stop_all(self):
        for name, process, _ in reversed(self.children):
            if process.poll() is None:
                process.terminate()
        for name, process, _ in reversed(self.children):
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def listening_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode()


def metric(base_url, name, labels=""):
    """The value of one Prometheus sample, e.g. metric(url, 'tokenmint_http_requests_total', 'route="/v1/token",status="204"')."""
    text = http_get(f"{base_url}/metrics")
    sample = f"{name}{{{labels}}}" if labels else name
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.split()[-1])
    return 0.0


# --- the test ----------------------------------------------------------------------------------

class BrowserTest:
    def __init__(self, output):
        self.output = output
        self.processes = Processes(output)
        self.driver = None
        self.results = []  # (name, passed, message)
        self.sockets = []

    # setup

    def start_services(self):
        binary = os.environ.get("TOKENMINT_BINARY")
        if not binary:
            binary = "/work/main/.build/debug/tokenmint"
            if not os.access(binary, os.X_OK):
                binary = os.path.join(REPO, ".build", "debug", "tokenmint")
        expect(os.access(binary, os.X_OK), f"tokenmint binary not found or not executable: {binary} (set TOKENMINT_BINARY)")

        # The sites' listening sockets are bound first (and handed to the backends), so their origins
        # are known before tokenmint starts: no port is picked and then hoped to be free.
        allowed, other, unreachable_site = listening_socket(), listening_socket(), listening_socket()
        # A port bound but not listening: connections to it are refused. It stands for "tokenmint is down".
        dead = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        dead.bind(("127.0.0.1", 0))
        self.sockets += [allowed, other, unreachable_site, dead]
        self.allowed_origin = f"http://127.0.0.1:{allowed.getsockname()[1]}"
        self.other_origin = f"http://127.0.0.1:{other.getsockname()[1]}"
        self.unreachable_origin = f"http://127.0.0.1:{unreachable_site.getsockname()[1]}"
        dead_url = f"http://127.0.0.1:{dead.getsockname()[1]}"

        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "MIRO_CLIENT_ID": CLIENT_ID, "MIRO_CLIENT_SECRET": CLIENT_SECRET,
            "CALLER_JWT_HS256_SECRET": CALLER_SECRET,
            "CORS_ALLOWED_ORIGINS": self.allowed_origin,
            "HOST": "127.0.0.1", "PORT": "0", "LOG_FORMAT": "json",
        }
        process, log = self.processes.start("tokenmint", [binary], env=env)
        match = Processes.wait_for_line("tokenmint", process, log, r'"msg":"listening".*:(\d+)"')
        self.tokenmint_url = f"http://127.0.0.1:{match.group(1)}"

        backend = os.path.join(HERE, "site_backend.py")
        for name, sock, tokenmint_url in [
            ("site-allowed", allowed, self.tokenmint_url),
            ("site-other-origin", other, self.tokenmint_url),
            ("site-tokenmint-down", unreachable_site, dead_url),
        ]:
            argv = [sys.executable, backend, "--listen-fd", str(sock.fileno()), "--caller-secret", CALLER_SECRET,
                    "--tokenmint-url", tokenmint_url, "--client-id", CLIENT_ID]
            process, log = self.processes.start(name, argv, env={"PATH": env["PATH"]}, pass_fds=(sock.fileno(),))
            Processes.wait_for_line(name, process, log, r"listening on ")
        for sock in (allowed, other, unreachable_site):
            sock.close()  # the backends hold their copies
        print(f"tokenmint {self.tokenmint_url}; allowed site {self.allowed_origin}; "
              f"not allowed {self.other_origin}; site whose tokenmint is down {self.unreachable_origin}", flush=True)

    def start_browser(self):
        chromium = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
        chromedriver = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
        for path, package in [(chromium, "chromium"), (chromedriver, "chromium-driver")]:
            expect(os.access(path, os.X_OK), f"{path} not found: apt-get install -y {package}")
        try:
            from selenium import webdriver
            from selenium.webdriver.chrome.service import Service
        except ImportError:
            raise CheckFailed(f"selenium is not installed for {sys.executable}: pip install -r {HERE}/requirements.txt")
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1000,900",
                     "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync"]:
            options.add_argument(flag)
        # ChromeDriver turns the popup blocker off by default; keep it on, as for a real visitor, so the
        # page's synchronous window.open is what lets its popup through.
        options.add_experimental_option("excludeSwitches", ["disable-popup-blocking"])
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        options.page_load_strategy = "normal"
        service = Service(executable_path=chromedriver, log_output=os.path.join(self.output, "chromedriver.log"))
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_page_load_timeout(WAIT_SECONDS)
        self.driver.set_script_timeout(WAIT_SECONDS)
        self.driver.execute_cdp_cmd("Network.enable", {})
        self.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": [MIRO_SCRIPT, "*://miro.com/*"]})
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": STAND_IN})

    # helpers

    def wait_for_state(self, *states):
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait
        try:
            WebDriverWait(self.driver, WAIT_SECONDS, poll_frequency=0.05).until(
                lambda d: d.find_element("id", "status").get_attribute("data-state") in states)
        except TimeoutException:
            raise CheckFailed(f"the page did not reach state {'/'.join(states)} within {WAIT_SECONDS} s; "
                              f"it shows {self.state()!r}: {self.status_text()!r}")
        return self.state()

    def state(self):
        return self.driver.find_element("id", "status").get_attribute("data-state")

    def status_text(self):
        return self.driver.find_element("id", "status-text").text

    def screenshot(self, name):
        path = os.path.join(self.output, f"{name}.png")
        expect(self.driver.save_screenshot(path), f"could not save {path}")
        return path

    def open_page(self, url, mode="success", hold=False):
        self.drain_performance_log()
        self.driver.get(url)
        self.wait_for_state("ready")
        self.driver.execute_script(
            "window.__miroStandIn.mode = arguments[0]; window.__miroStandIn.hold = arguments[1];", mode, hold)

    def click_open(self):
        self.driver.find_element("id", "open-picker").click()

    def picker_calls(self):
        return self.driver.execute_script("return window.__miroStandIn.calls")

    def drain_performance_log(self):
        return [json.loads(entry["message"])["message"] for entry in self.driver.get_log("performance")]

    def tokenmint_exchanges(self, events):
        """The browser's requests to tokenmint's /v1/token, by request id, from CDP performance log events."""
        exchanges = {}
        for event in events:
            method, params = event.get("method", ""), event.get("params", {})
            request_id = params.get("requestId")
            if method == "Network.requestWillBeSent" and params["request"]["url"].startswith(self.tokenmint_url):
                exchanges[request_id] = {"method": params["request"]["method"], "type": params.get("type"),
                                         "initiator": params.get("initiator", {}).get("type"),
                                         "status": None, "headers": {}, "failed": None, "cors": None}
            elif request_id in exchanges and method == "Network.responseReceived":
                response = params["response"]
                exchanges[request_id]["status"] = response["status"]
                exchanges[request_id]["headers"] = {k.lower(): v for k, v in response["headers"].items()}
            elif request_id in exchanges and method == "Network.loadingFailed":
                exchanges[request_id]["failed"] = params.get("errorText")
                exchanges[request_id]["cors"] = (params.get("corsErrorStatus") or {}).get("corsError")
        return list(exchanges.values())

    def requests_total(self, status):
        return metric(self.tokenmint_url, "tokenmint_http_requests_total", f'route="/v1/token",status="{status}"')

    # checks

    def check_loading(self):
        # Hold the demo login in the browser (CDP Fetch pauses it) so the loading state stays on screen.
        self.driver.execute_cdp_cmd("Fetch.enable", {"patterns": [{"urlPattern": "*/login*", "requestStage": "Request"}]})
        try:
            self.driver.get(self.allowed_origin + "/")
            self.wait_for_state("loading")
            time.sleep(0.3)
            expect(self.state() == "loading", f"expected the loading state while signing in, got {self.state()!r}")
            expect(not self.driver.find_element("id", "open-picker").is_enabled(), "the button is enabled before sign-in")
            self.screenshot("01-loading")
        finally:
            self.driver.execute_cdp_cmd("Fetch.disable", {})

    def check_allowed_origin_success(self):
        self.open_page(self.allowed_origin + "/", hold=True)
        self.screenshot("02-ready")
        preflights_before, served_before = self.requests_total("204"), self.requests_total("200")

        # The popup blocker is on: a window.open without a user gesture is refused ...
        blocked = self.driver.execute_script("const w = window.open('', '_blank'); if (w) w.close(); return w === null;")
        expect(blocked, "the popup blocker is off in this browser, so the windowRef check below would prove nothing")

        self.click_open()
        self.wait_for_state("picker-open")
        self.screenshot("03-picker-open")
        calls = self.picker_calls()
        expect(len(calls) == 1, f"miroBoardsPicker.open was called {len(calls)} times, expected once")
        call = calls[0]
        expect(call["clientId"] == CLIENT_ID, f"clientId {call['clientId']!r}, expected {CLIENT_ID} (from /config)")
        expect(call["action"] == "access-link", f"action {call['action']!r}, expected 'access-link'")
        expect(call["allowCreateAnonymousBoards"] is True, "allowCreateAnonymousBoards is not true")
        expect(sorted(call["functions"]) == ["cancel", "error", "getToken", "success"],
               f"picker options lack callbacks: has {call['functions']}")
        # ... and yet the page's popup, opened in the click handler, is open.
        expect(call["windowRefOpen"], "windowRef is not an open window: the popup was blocked (opened after an await?)")
        # Chromium lets a popup through for ~5 s after a click (Safari does not), so an open popup alone does
        # not prove the page opened it before any await: the stand-in also records that open() ran while
        # the click event was still being dispatched.
        expect(call["inClickHandler"], "miroBoardsPicker.open ran after the click handler returned (an await before "
                                       "window.open/open?): Safari blocks that popup, Chromium once the await is slow")

        expect(self.driver.execute_script("return window.__miroStandIn.release()"), "the stand-in picker was not holding")
        self.wait_for_state("success")
        board = self.driver.find_elements("css selector", "#board-container iframe[data-stand-in-board]")
        expect(len(board) == 1, "the board's embedHtml was not placed in #board-container")
        self.screenshot("04-success")

        call = self.picker_calls()[0]
        expect(call["error"] is None, f"getToken failed on the allowed origin: {call['error']}")
        expect(isinstance(call["token"], str), "getToken returned no token")
        claims = verify_miro_token(call["token"])

        # The CORS preflight: tokenmint answered it (metrics), and the browser saw it pass (CDP log).
        preflights = self.requests_total("204") - preflights_before
        expect(preflights >= 1, "tokenmint answered no CORS preflight (OPTIONS /v1/token 204) for the allowed origin")
        expect(self.requests_total("200") - served_before == 1, "tokenmint did not serve exactly one token")
        exchanges = self.tokenmint_exchanges(self.drain_performance_log())
        options = [e for e in exchanges if e["method"] == "OPTIONS"]
        posts = [e for e in exchanges if e["method"] == "POST"]
        expect(options and options[0]["status"] == 204, f"the browser's preflight did not get a 204: {exchanges}")
        expect(options[0]["headers"].get("access-control-allow-origin") == self.allowed_origin,
               f"the preflight's Access-Control-Allow-Origin is not the page's origin: {options[0]['headers']}")
        expect("authorization" in options[0]["headers"].get("access-control-allow-headers", "").lower(),
               "the preflight does not allow the Authorization header")
        expect(posts and posts[0]["status"] == 200 and posts[0]["cors"] is None,
               f"the browser's POST did not succeed: {posts}")
        return f"token iss={claims['iss']} exp in {int(claims['exp'] - time.time())} s; {int(preflights)} preflight(s)"

    def check_cancel(self):
        self.open_page(self.allowed_origin + "/", mode="cancel")
        self.click_open()
        self.wait_for_state("cancelled")
        calls = self.picker_calls()
        expect(len(calls) == 1 and calls[0]["outcome"] == "cancel", f"unexpected picker calls: {calls}")
        expect(calls[0]["token"] is None and calls[0]["error"] is None, "getToken was called although the picker was cancelled")
        expect(not self.driver.find_elements("css selector", "#board-container iframe"), "a board is shown after cancel")
        self.screenshot("05-cancelled")

    def check_expired_user_token(self):
        # What tokenmint says about an expired user token, asked directly.
        request = urllib.request.Request(f"{self.tokenmint_url}/v1/token", method="POST",
                                         headers={"Authorization": f"Bearer {expired_caller_token()}"})
        try:
            urllib.request.urlopen(request, timeout=5)
            raise CheckFailed("tokenmint accepted an expired user token")
        except urllib.error.HTTPError as error:
            expect(error.code == 401, f"tokenmint answered {error.code} to an expired user token, expected 401")
            detail = json.loads(error.read())["detail"]

        rejected_before = metric(self.tokenmint_url, "tokenmint_caller_rejected_total", 'reason="expired"')
        self.open_page(self.allowed_origin + "/?expired=1")
        self.click_open()
        self.wait_for_state("error")
        text = self.status_text()
        expect(f"tokenmint 401: {detail}" in text, f"the page does not show the 401 problem detail {detail!r}: {text!r}")
        call = self.picker_calls()[0]
        expect(call["token"] is None and "401" in (call["error"] or ""), f"getToken did not fail with the 401: {call}")
        rejected = metric(self.tokenmint_url, "tokenmint_caller_rejected_total", 'reason="expired"') - rejected_before
        expect(rejected == 2, f"expected the page to try twice (refresh the user token, retry once); tokenmint refused {rejected:g}")
        self.screenshot("06-expired-user-token-401")
        return f"shows {text!r}"

    def check_origin_not_allowed(self):
        served_before, preflights_before = self.requests_total("200"), self.requests_total("204")
        self.open_page(self.other_origin + "/")
        self.click_open()
        self.wait_for_state("error")
        call = self.picker_calls()[0]
        expect(call["token"] is None, "the page on a non-allowed origin received a token")
        expect("unreachable" in (call["error"] or ""), f"getToken's error is not the blocked request: {call['error']!r}")
        text = self.status_text()
        expect("tokenmint unreachable" in text, f"the page does not show the blocked request: {text!r}")
        expect(self.requests_total("200") == served_before, "tokenmint served a token to the non-allowed origin")
        expect(self.requests_total("204") - preflights_before >= 1, "the browser sent no preflight from the non-allowed origin")
        exchanges = self.tokenmint_exchanges(self.drain_performance_log())
        blocked = [e for e in exchanges if e["cors"] or e["failed"]]
        expect(blocked, f"the browser's log shows no blocked request to tokenmint: {exchanges}")
        expect(not any("access-control-allow-origin" in e["headers"] for e in exchanges),
               f"tokenmint sent Access-Control-Allow-Origin to a non-allowed origin: {exchanges}")
        self.screenshot("07-origin-not-allowed")
        corses = sorted({e["cors"] for e in blocked if e["cors"]})
        return f"blocked by the browser ({', '.join(corses) or blocked[0]['failed']})"

    def check_tokenmint_down(self):
        self.open_page(self.unreachable_origin + "/")
        self.click_open()
        self.wait_for_state("error")
        text = self.status_text()
        expect("tokenmint unreachable" in text, f"the page does not say tokenmint is unreachable: {text!r}")
        expect(self.picker_calls()[0]["token"] is None, "a token arrived from a closed port")
        self.screenshot("08-tokenmint-unreachable")

    def check_picker_script_missing(self):
        # As when miro.com cannot be reached: no miroBoardsPicker at all.
        self.open_page(self.allowed_origin + "/")
        self.driver.execute_script("delete window.miroBoardsPicker")
        self.click_open()
        self.wait_for_state("error")
        text = self.status_text()
        expect("BoardsPicker script did not load" in text, f"the page does not say the picker script is missing: {text!r}")
        deadline = time.monotonic() + 5
        while len(self.driver.window_handles) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        expect(len(self.driver.window_handles) == 1, "the popup was left open after the picker failed to load")
        self.screenshot("09-picker-script-missing")

    # running

    def run_check(self, name, function):
        started = time.monotonic()
        try:
            note = function()
            self.results.append((name, True, note))
            print(f"PASS {name} ({time.monotonic() - started:.1f} s){': ' + note if note else ''}", flush=True)
        except (CheckFailed, Exception) as error:
            message = str(error) if isinstance(error, CheckFailed) else traceback.format_exc()
            self.results.append((name, False, message))
            print(f"FAIL {name}: {message}", flush=True)
            if self.driver is not None:
                try:
                    self.screenshot(f"failed-{name}")
                except Exception:
                    pass

    def run(self):
        checks = [
            ("services start", self.start_services),
            ("browser starts", self.start_browser),
            ("loading state while signing in", self.check_loading),
            ("allowed origin: preflight passes, token verifies, board embedded", self.check_allowed_origin_success),
            ("cancel shows the cancelled state", self.check_cancel),
            ("expired user token: 401 detail shown after one refresh", self.check_expired_user_token),
            ("non-allowed origin: browser blocks the response, error shown", self.check_origin_not_allowed),
            ("tokenmint down: unreachable shown", self.check_tokenmint_down),
            ("Miro's script missing: error shown, popup closed", self.check_picker_script_missing),
        ]
        for index, (name, function) in enumerate(checks):
            self.run_check(name, function)
            if index < 2 and not self.results[-1][1]:
                # Without services or a browser nothing else can run: count the rest as failed.
                for skipped, _ in checks[index + 1:]:
                    self.results.append((skipped, False, "not run"))
                break

    def close(self):
        if self.driver is not None:
            try:
                self.driver.quit()
            except Exception:
                pass
        self.processes.stop_all()
        for sock in self.sockets:
            sock.close()


def main():
    output = os.environ.get("BROWSER_TEST_OUTPUT") or tempfile.mkdtemp(prefix="tokenmint-browser-test-")
    os.makedirs(output, exist_ok=True)
    print(f"output: {output}", flush=True)

    def on_timeout(signum, frame):
        raise RunTimeout(f"the browser test did not finish within {TOTAL_SECONDS} s")

    def on_terminate(signum, frame):
        raise RunTimeout(f"stopped by signal {signum}")

    # A parent may hand us a mask of blocked signals (a Swift Testing runner starts its children with nearly
    # all blocked, and a mask is inherited): unblock them, or neither the time bound (SIGALRM) nor SIGTERM
    # would work here, and the processes started below could not be stopped with SIGTERM.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    signal.signal(signal.SIGALRM, on_timeout)
    signal.signal(signal.SIGTERM, on_terminate)
    signal.signal(signal.SIGINT, on_terminate)
    signal.alarm(TOTAL_SECONDS)
    started = time.monotonic()
    test = BrowserTest(output)
    aborted = None
    try:
        test.run()
    except RunTimeout as error:
        aborted = str(error)
    finally:
        signal.alarm(0)
        try:
            test.close()
        except RunTimeout:
            test.close()
    if aborted:
        test.results.append(("run", False, aborted))
        print(f"FAIL {aborted}", flush=True)
    failed = [r for r in test.results if not r[1]]
    if failed:
        for name in ("tokenmint", "site-allowed", "site-other-origin"):
            tail = Processes.tail(os.path.join(output, f"{name}.log"), 8)
            if tail:
                print(f"--- last lines of {name}.log ---\n{tail}", end="", flush=True)
    print(f"screenshots and logs: {output} ({time.monotonic() - started:.1f} s)", flush=True)
    print(f"{len(test.results) - len(failed)} passed, {len(failed)} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
