"""How fast the review page is on a two-hour run: time to open it in headless Chromium, and
an edit's round trip (save the JSON with its history + regenerate every output).

The two-hour run is the real run of a sample (transcribed by spacescribe) laid end to end
with shifted times until it is two hours long, with its audio concatenated the same way,
so the page, the player and every writer see a run of that size.

Usage: python3 scripts/bench_review.py BINARY RUN.json AUDIO WORKDIR
"""

import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from cpu_info import cpu_line, whisper_line

HOURS = 2.0


def tile(run, copies):
    """The run `copies` times end to end (speakers, words and turns shifted in time)."""
    d = run["duration"]
    out = dict(run)
    out["duration"] = round(d * copies, 3)
    out["segments"], out["turns"] = [], []
    for k in range(copies):
        shift = lambda x: round(x + k * d, 3)
        for s in run["segments"]:
            s2 = dict(s, start=shift(s["start"]), end=shift(s["end"]))
            s2["words"] = [dict(w, start=shift(w["start"]), end=shift(w["end"])) for w in s["words"]]
            out["segments"].append(s2)
        for t in run.get("turns", []):
            out["turns"].append(dict(t, start=shift(t["start"]), end=shift(t["end"])))
    out.pop("history", None)
    out.pop("revision", None)
    return out


class Chromium:
    """The DevTools protocol over --remote-debugging-pipe (no client library needed)."""

    def __init__(self):
        r1, w1 = os.pipe()
        r2, w2 = os.pipe()
        self.profile = tempfile.mkdtemp()
        args = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--remote-debugging-pipe",
                "--user-data-dir=" + self.profile, "--window-size=1300,1000", "about:blank"]

        def fds():
            os.dup2(r1, 3)
            os.dup2(w2, 4)

        self.proc = subprocess.Popen(args, pass_fds=(3, 4), preexec_fn=fds,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(r1)
        os.close(w2)
        self.tx = os.fdopen(w1, "wb", buffering=0)
        self.rx = os.fdopen(r2, "rb", buffering=0)
        self.buf, self.id = b"", 0
        page = [t for t in self.call("Target.getTargets")["targetInfos"] if t["type"] == "page"][0]
        self.session = self.call("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})["sessionId"]
        self.call("Page.enable", session=True)

    def call(self, method, params=None, session=False):
        self.id += 1
        msg = {"id": self.id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self.session
        self.tx.write(json.dumps(msg).encode() + b"\0")
        while True:
            while b"\0" not in self.buf:
                chunk = self.rx.read(1 << 20)
                if not chunk:
                    raise EOFError("chromium closed the pipe")
                self.buf += chunk
            raw, self.buf = self.buf.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self.id:
                if "error" in reply:
                    raise RuntimeError(reply["error"])
                return reply.get("result", {})

    def eval(self, expression):
        r = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=True)
        return r["result"].get("value")

    def open(self, url):
        """Seconds from navigation to the page's first complete render."""
        self.call("Page.navigate", {"url": url}, session=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.eval("window.reviewReady === true"):
                return self.eval("performance.now()") / 1000.0
            time.sleep(0.01)
        raise TimeoutError(url)

    def close(self):
        try:
            self.call("Browser.close")
        except Exception:
            pass
        self.proc.wait(10)


def post(url, body):
    started = time.perf_counter()
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        answer = json.loads(r.read())
    return time.perf_counter() - started, answer


def main():
    binary, run_path, audio, work = sys.argv[1:5]
    print(cpu_line())
    print(whisper_line())
    run = json.load(open(run_path))
    copies = max(1, round(HOURS * 3600 / run["duration"]))
    big = tile(run, copies)
    long_audio = os.path.join(work, "long" + os.path.splitext(audio)[1])
    if not os.path.exists(long_audio):
        listing = os.path.join(work, "list.txt")
        with open(listing, "w") as f:
            f.writelines(f"file '{os.path.abspath(audio)}'\n" for _ in range(copies))
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", listing,
                        "-c", "copy", long_audio], check=True)
    big["audio"] = os.path.abspath(long_audio)
    json_path = os.path.join(work, "long.json")
    json.dump(big, open(json_path, "w"), indent=2)
    subprocess.run([binary, "rebuild", json_path], check=True, stderr=subprocess.DEVNULL)
    words = sum(len(s["words"]) for s in big["segments"])
    print(f"run: {big['duration'] / 3600:.2f} h, {len(big['segments'])} segments, {words} words, "
          f"{len(big['speakers'])} speakers ({copies} copies of {os.path.basename(run_path)}); "
          f"outputs: {', '.join(big.get('outputs', []))}")

    server = subprocess.Popen([binary, "review", json_path, "--no-open", "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = next(w for w in server.stdout.readline().split() if w.startswith("http://"))
        browser = Chromium()
        try:
            opens = [browser.open(url) for _ in range(3)]
        finally:
            browser.close()
        print(f"page open (navigation to rendered transcript), 3 loads: "
              + ", ".join(f"{t * 1000:.0f} ms" for t in opens) + f"; target < 2000 ms")

        revision = json.load(urllib.request.urlopen(url + "api/run"))["revision"]
        segments = len(big["segments"])
        edits = []
        for i in range(10):
            k = (i * 997) % segments
            if i % 2 == 0:
                edit = {"op": "rename", "speaker": big["speakers"][0], "name": f"Host {i}"}
                big["speakers"][0] = f"Host {i}"
            else:
                edit = {"op": "correct", "segment": k, "word": 0, "text": f"word{i}"}
            seconds, answer = post(url + "api/edit", {"revision": revision, "edit": edit})
            revision = answer["revision"]
            edits.append(seconds)
        seconds, answer = post(url + "api/undo", {"revision": revision})
        edits.append(seconds)
        size = sum(os.path.getsize(os.path.join(work, f)) for f in os.listdir(work)
                   if f.startswith("long.") and f != os.path.basename(long_audio))
        print(f"edit round trip (save JSON + history, regenerate {len(big.get('outputs', []))} outputs, "
              f"{size / 1e6:.1f} MB on disk), 11 edits: median {statistics.median(edits) * 1000:.0f} ms, "
              f"max {max(edits) * 1000:.0f} ms; target < 300 ms")
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
