#!/usr/bin/env python3
"""Drives headless Chromium over the DevTools protocol against a running smollama dashboard.

Standard library only. For each page: loads it, records console errors, uncaught exceptions,
failed requests and every request whose host is not 127.0.0.1, counts SVG chart paths, saves a
screenshot. Then opens the log page, prints READY, and waits for --marker to appear without a
reload (the caller writes a log entry to the store after READY). Prints one JSON summary line.
"""
import argparse, base64, json, os, shutil, socket, subprocess, sys, tempfile, time, urllib.parse, urllib.request


class WebSocket:
    def __init__(self, url):
        parts = urllib.parse.urlparse(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
                           f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise RuntimeError("devtools closed the handshake")
            head += chunk
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError("devtools refused the websocket: " + head.decode(errors="replace"))

    def _exact(self, count):
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise RuntimeError("devtools closed the connection")
            data += chunk
        return data

    def send(self, text):
        payload = text.encode()
        header = bytes([0x81])
        length = len(payload)
        if length < 126:
            header += bytes([0x80 | length])
        elif length < 65536:
            header += bytes([0x80 | 126]) + length.to_bytes(2, "big")
        else:
            header += bytes([0x80 | 127]) + length.to_bytes(8, "big")
        mask = os.urandom(4)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def recv(self):
        message = b""
        while True:
            first, second = self._exact(2)
            length = second & 0x7F
            if length == 126:
                length = int.from_bytes(self._exact(2), "big")
            elif length == 127:
                length = int.from_bytes(self._exact(8), "big")
            data = self._exact(length)
            opcode = first & 0x0F
            if opcode == 0x8:
                raise RuntimeError("devtools closed the websocket")
            if opcode == 0x9:
                continue
            message += data
            if first & 0x80:
                return message.decode()


class Page:
    def __init__(self, url):
        self.ws = WebSocket(url)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        ident = self.next_id
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_event(self, method, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for index, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(index)
            self.ws.sock.settimeout(max(0.1, deadline - time.time()))
            try:
                self.events.append(json.loads(self.ws.recv()))
            except socket.timeout:
                break
            finally:
                self.ws.sock.settimeout(30)
        raise RuntimeError(f"timed out waiting for {method}")

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.evaluate(expression):
                return True
            time.sleep(0.1)
        return False

    def drain(self):
        """Moves events already sent into self.events and returns them, emptying the list."""
        self.evaluate("1")
        events, self.events = self.events, []
        return events


def problems(events, base_host):
    errors, external, failed, statuses = [], [], [], {}
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append("console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            errors.append("exception: " + details.get("exception", {}).get("description", details.get("text", "")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            errors.append("log: " + params["entry"].get("text", "") + " " + params["entry"].get("url", ""))
        elif method == "Network.requestWillBeSent":
            url = params.get("request", {}).get("url", "")
            scheme = urllib.parse.urlparse(url).scheme
            if scheme not in ("data", "about") and urllib.parse.urlparse(url).hostname != base_host:
                external.append(url)
        elif method == "Network.loadingFailed" and params.get("type") != "EventSource" and not params.get("canceled"):
            failed.append(params.get("errorText", "") + " " + params.get("requestId", ""))
        elif method == "Network.responseReceived" and params.get("type") == "Document":
            statuses[params["response"]["url"]] = params["response"]["status"]
    return errors, external, failed, statuses


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--pages", default="/,/sensors,/sensors?range=7d,/sensors?range=30d,/log,/observations,/thoughts,/memories")
    parser.add_argument("--marker", required=True)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args()
    base = args.base.rstrip("/")
    base_host = urllib.parse.urlparse(base).hostname
    os.makedirs(args.out, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="smollama-chromium-")
    browser = subprocess.Popen([
        args.chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0",
        f"--user-data-dir={profile}", "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps",
        "--window-size=1280,900", "--hide-scrollbars", "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    summary = {"pages": {}, "live": False}
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.time() + 60
        while not (os.path.exists(port_file) and open(port_file).read().count("\n") >= 1):
            if time.time() > deadline or browser.poll() is not None:
                raise RuntimeError("chromium did not start")
            time.sleep(0.1)
        port = int(open(port_file).read().split("\n")[0])
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
        page = Page(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.call(domain + ".enable")
        page.drain()
        for path in args.pages.split(","):
            page.call("Page.navigate", url=base + path)
            page.wait_event("Page.loadEventFired")
            live = page.evaluate("!!document.querySelector('[data-live-log]')")
            if live:
                page.wait_for("document.querySelector('.live') && document.querySelector('.live').textContent === 'live'")
            svg_paths = page.evaluate("document.querySelectorAll('svg.chart path[d^=\"M\"]').length")
            node_name = page.evaluate("(document.querySelector('.brand .node') || {}).textContent || ''")
            images = page.evaluate("document.querySelectorAll('img').length")
            metrics = page.call("Page.getLayoutMetrics")
            size = metrics.get("cssContentSize", metrics.get("contentSize"))
            shot = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                             clip={"x": 0, "y": 0, "width": 1280, "height": min(size["height"], 4000), "scale": 1})
            name = (path.strip("/").replace("/", "-").replace("?", "-").replace("=", "-") or "overview") + ".png"
            with open(os.path.join(args.out, name), "wb") as handle:
                handle.write(base64.b64decode(shot["data"]))
            errors, external, failed, statuses = problems(page.drain(), base_host)
            summary["pages"][path] = {"status": statuses.get(base + path), "errors": errors, "external": external,
                                      "failed": failed, "svgPaths": svg_paths, "live": live, "screenshot": name,
                                      "nodeName": node_name, "images": images}
        # A phone-sized look at the sensors page.
        page.call("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
        page.call("Page.navigate", url=base + "/sensors")
        page.wait_event("Page.loadEventFired")
        shot = page.call("Page.captureScreenshot", format="png")
        with open(os.path.join(args.out, "sensors-phone.png"), "wb") as handle:
            handle.write(base64.b64decode(shot["data"]))
        page.call("Emulation.clearDeviceMetricsOverride")
        # Live: the caller writes an entry after READY; it must appear without a reload.
        page.call("Page.navigate", url=base + "/log")
        page.wait_event("Page.loadEventFired")
        connected = page.wait_for("document.querySelector('.live').textContent === 'live'")
        page.evaluate("window.__smollamaNoReload = true")
        print("READY", flush=True)
        marker = json.dumps(args.marker)
        appeared = page.wait_for(f"document.body.innerText.includes({marker})", timeout=20)
        summary["live"] = bool(connected and appeared and page.evaluate("window.__smollamaNoReload === true"))
        shot = page.call("Page.captureScreenshot", format="png")
        with open(os.path.join(args.out, "log-live.png"), "wb") as handle:
            handle.write(base64.b64decode(shot["data"]))
        errors, external, failed, _ = problems(page.drain(), base_host)
        summary["liveErrors"] = errors + external + failed
    finally:
        browser.terminate()
        try:
            browser.wait(timeout=10)
        except subprocess.TimeoutExpired:
            browser.kill()
        shutil.rmtree(profile, ignore_errors=True)
    print("SUMMARY " + json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
