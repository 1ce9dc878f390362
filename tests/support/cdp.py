"""A page open in headless Chromium, driven over the DevTools protocol.

Shared by the browser tests that must watch a page over time (not just dump
its DOM once): the page stays open while the test changes the world, then
reads what the page shows with evaluate(). The protocol runs over a pipe
(--remote-debugging-pipe: JSON messages ending in NUL on the browser's fds 3
and 4), so nothing but Chromium and the standard library is needed.

    with Page(browser, url, profile_dir, log_path) as page:
        page.wait_for("document.readyState === 'complete'")
        rows = page.evaluate("[...document.querySelectorAll('tr')].length")
"""
import json
import os
import select
import subprocess
import time


class Page:
    def __init__(self, browser, url, profile_dir, log_path, size=(1400, 1300)):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # the browser's ends above 4 first, so that placing them on 3 and 4
        # overwrites nothing they are still to be read from
        hi_r, hi_w = os.dup2(to_browser_r, 40), os.dup2(from_browser_w, 41)
        os.close(to_browser_r)
        os.close(from_browser_w)

        def place():
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--user-data-dir=" + profile_dir,
                 "--window-size=%d,%d" % size, "--remote-debugging-pipe", url]
        self._log = open(log_path, "w")
        self._proc = subprocess.Popen([browser] + flags, close_fds=False, preexec_fn=place,
                                      stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log)
        os.close(hi_r)
        os.close(hi_w)
        self._buf, self._id = b"", 0
        deadline = time.time() + 30
        while True:
            pages = [t for t in self.call("Target.getTargets")["targetInfos"] if t["type"] == "page"]
            if pages or time.time() > deadline:
                break
            time.sleep(0.2)
        assert pages, "Chromium opened no page"
        self._session = self.call("Target.attachToTarget",
                                  {"targetId": pages[0]["targetId"], "flatten": True})["sessionId"]

    def call(self, method, params=None, session=None, timeout=30):
        """Sends one command and returns its result (raises on an error)."""
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_browser, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while time.time() < deadline:
            while b"\0" in self._buf:
                raw, self._buf = self._buf.split(b"\0", 1)
                m = json.loads(raw)
                if m.get("id") == self._id:
                    if "error" in m:
                        raise RuntimeError("%s: %s" % (method, m["error"]))
                    return m["result"]
            ready, _, _ = select.select([self._from_browser], [], [], 0.5)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the pipe (see its log)")
                self._buf += chunk
        raise TimeoutError(method)

    def evaluate(self, expression):
        """The value of a JavaScript expression in the page (JSON-able)."""
        r = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                           "awaitPromise": True}, self._session)
        if "exceptionDetails" in r:
            raise RuntimeError("%s: %s" % (expression, r["exceptionDetails"]))
        return r["result"].get("value")

    def wait_for(self, expression, timeout=20, what=None):
        """Waits until expression is true in the page (an exception, as while
        the page loads, counts as not yet); its last value."""
        deadline = time.time() + timeout
        while True:
            try:
                v, last = self.evaluate(expression), None
            except RuntimeError as e:
                v, last = None, e
            if v:
                return v
            if time.time() > deadline:
                raise AssertionError("timed out waiting for %s (last: %r)" % (what or expression,
                                                                             last or v))
            time.sleep(0.2)

    def screenshot(self, path):
        import base64
        data = self.call("Page.captureScreenshot", {"format": "png"}, self._session)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
        self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
