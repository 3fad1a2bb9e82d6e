#!/usr/bin/env python3
"""Drives headless Chromium over the hub's pages (home, a node, compare, memories, thoughts, ask).

Standard library only; the DevTools plumbing is browser_check.py's. For each page: loads it,
records console errors, exceptions, failed requests and requests that leave 127.0.0.1, reads the
header's node name and counts <img> elements (a hostile name must stay text), saves a 1000 px wide
PNG as OUT/hub-NAME.png. Then searches the memories with --search and expects --search-expect in
the results, asks --question and expects an answer, opens Thoughts, prints READY and waits for
--marker to arrive live (the caller syncs a node's observation after READY). One JSON summary line.
"""
import argparse, base64, json, os, shutil, subprocess, sys, tempfile, time, urllib.parse, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser_check import Page, problems  # noqa: E402

WIDTH = 1000


def shoot(page, path, max_height=1500):
    metrics = page.call("Page.getLayoutMetrics")
    size = metrics.get("cssContentSize", metrics.get("contentSize"))
    shot = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                     clip={"x": 0, "y": 0, "width": WIDTH, "height": min(size["height"], max_height), "scale": 1})
    with open(path, "wb") as handle:
        handle.write(base64.b64decode(shot["data"]))


def load(page, url):
    page.call("Page.navigate", url=url)
    page.wait_event("Page.loadEventFired")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--node", required=True, help="a synced node's id, for its page")
    parser.add_argument("--search", required=True)
    parser.add_argument("--search-expect", required=True)
    parser.add_argument("--question", required=True)
    parser.add_argument("--marker", required=True)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args()
    base = args.base.rstrip("/")
    base_host = urllib.parse.urlparse(base).hostname
    pages = {"home": "/", "node": f"/nodes/{args.node}?range=7d", "compare": "/compare?quantity=temperature&range=7d",
             "memories": "/memories", "ask": "/ask"}
    os.makedirs(args.out, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="smollama-hub-chromium-")
    browser = subprocess.Popen([
        args.chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0",
        f"--user-data-dir={profile}", "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps",
        f"--window-size={WIDTH},900", "--hide-scrollbars", "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    summary = {"pages": {}, "search": False, "ask": False, "live": False}
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
        page.call("Emulation.setDeviceMetricsOverride", width=WIDTH, height=900, deviceScaleFactor=1, mobile=False)
        page.drain()

        def record(name, extra=None):
            errors, external, failed, statuses = problems(page.drain(), base_host)
            result = {"status": statuses.get(page.evaluate("location.href")), "errors": errors, "external": external, "failed": failed,
                      "nodeName": page.evaluate("(document.querySelector('.brand .node') || {}).textContent || ''"),
                      "images": page.evaluate("document.querySelectorAll('img').length"),
                      "svg": page.evaluate("document.querySelectorAll('svg path[d^=\"M\"]').length"),
                      "screenshot": f"hub-{name}.png"}
            result.update(extra or {})
            summary["pages"][name] = result

        for name, path in pages.items():
            load(page, base + path)
            shoot(page, os.path.join(args.out, f"hub-{name}.png"))
            record(name)

        # A memory search through the form, as a person would run it.
        load(page, base + "/memories")
        page.drain()
        page.evaluate("(function(){const f=document.querySelector('form[data-memory-search]');"
                      f"f.querySelector('input[name=q]').value={json.dumps(args.search)};f.submit();}})()")
        page.wait_event("Page.loadEventFired")
        expect = json.dumps(args.search_expect)
        summary["search"] = bool(page.wait_for(
            f"Array.from(document.querySelectorAll('.memory .text')).some(e => e.textContent.includes({expect}))"))
        page.evaluate("document.querySelectorAll('.memory details').forEach(d => d.open = true)")
        shoot(page, os.path.join(args.out, "hub-memories.png"))
        record("memories", {"searched": summary["search"]})

        # Ask through the form.
        load(page, base + "/ask")
        page.drain()
        page.evaluate("(function(){const f=document.querySelector('form.ask');"
                      f"f.querySelector('input[name=question]').value={json.dumps(args.question)};f.submit();}})()")
        page.wait_event("Page.loadEventFired")
        summary["ask"] = bool(page.wait_for("!!document.querySelector('[data-answer] .text')"))
        summary["askLinks"] = page.evaluate(
            "Array.from(document.querySelectorAll('.citations a')).map(a => a.getAttribute('href'))")
        shoot(page, os.path.join(args.out, "hub-ask.png"))
        errors, external, failed, _ = problems(page.drain(), base_host)
        summary["askErrors"] = errors + external + failed

        # Thoughts: a node's observation must arrive live after its sync.
        load(page, base + "/thoughts")
        connected = page.wait_for("document.querySelector('.live') && document.querySelector('.live').textContent === 'live'")
        page.evaluate("window.__smollamaNoReload = true")
        errors, external, failed, statuses = problems(page.drain(), base_host)
        print("READY", flush=True)
        marker = json.dumps(args.marker)
        appeared = page.wait_for(f"document.querySelector('[data-live-observations]').innerText.includes({marker})",
                                 timeout=90)
        summary["live"] = bool(connected and appeared and page.evaluate("window.__smollamaNoReload === true"))
        shoot(page, os.path.join(args.out, "hub-thoughts.png"))
        record("thoughts", {"live": summary["live"]})
        summary["pages"]["thoughts"]["status"] = statuses.get(base + "/thoughts")
        summary["pages"]["thoughts"]["errors"] += errors
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
