"""scripts/bench-live-hls: a real-time live HLS stream on 127.0.0.1, followed by
`spacescribe live --url`; see the shell wrapper for what it measures."""

import http.server
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from bench_review import cpu_line, whisper_line  # noqa: E402

SEGMENT_S = 4
WINDOW = 6  # segments a playlist lists at once, as a live edge would


def cut(work):
    """panel.flac + interview.wav as AAC, cut into TS segments; [(name, seconds)]."""
    # The concat filter, not the concat demuxer: the two samples differ in codec and rate.
    join = ("[0:a]aresample=44100,aformat=channel_layouts=mono[a];"
            "[1:a]aresample=44100,aformat=channel_layouts=mono[b];[a][b]concat=n=2:v=0:a=1")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", "samples/panel.flac", "-i",
                    "samples/interview.wav", "-filter_complex", join, "-c:a", "aac", "-b:a", "64k",
                    "-f", "hls", "-hls_time", str(SEGMENT_S), "-hls_list_size", "0",
                    "-hls_playlist_type", "vod",
                    "-hls_segment_filename", os.path.join(work, "s%04d.ts"),
                    os.path.join(work, "vod.m3u8")], check=True)
    segments, duration = [], None
    for line in open(os.path.join(work, "vod.m3u8")):
        line = line.strip()
        if line.startswith("#EXTINF:"):
            duration = float(line[8:].rstrip(","))
        elif line and not line.startswith("#"):
            segments.append((line, duration))
    return segments


def serve(work, segments):
    started = time.monotonic()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            name = self.path.lstrip("/")
            if name == "live.m3u8":
                # A segment is published once its audio has happened, in real time.
                elapsed, t, published = time.monotonic() - started, 0.0, 0
                for _, d in segments:
                    t += d
                    if t > elapsed:
                        break
                    published += 1
                first = max(0, published - WINDOW)
                body = (f"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:{SEGMENT_S}\n"
                        f"#EXT-X-MEDIA-SEQUENCE:{first}\n")
                body += "".join(f"#EXTINF:{d:.6f},\n{n}\n" for n, d in segments[first:published])
                if published == len(segments):
                    body += "#EXT-X-ENDLIST\n"
                data, kind = body.encode(), "application/vnd.apple.mpegurl"
            elif name in {n for n, _ in segments}:
                data, kind = open(os.path.join(work, name), "rb").read(), "video/mp2t"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    model = sys.argv[1]
    print(cpu_line())
    print(whisper_line())
    with tempfile.TemporaryDirectory() as work:
        segments = cut(work)
        total = sum(d for _, d in segments)
        print(f"stream: {len(segments)} segments of {SEGMENT_S} s, {total:.1f} s, "
              f"published in real time; model {model}", flush=True)
        server = serve(work, segments)
        url = f"http://127.0.0.1:{server.server_address[1]}/live.m3u8"
        out = os.path.join(work, "out")
        t0 = time.monotonic()
        run = subprocess.run(["target/release/spacescribe", "live", "--model", model, "--url", url,
                              "--formats", "txt,json", "--out", out],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wall = time.monotonic() - t0
        server.shutdown()
        log = run.stderr
        if run.returncode != 0:
            sys.exit(f"spacescribe live failed:\n{log}")
        lat = re.search(r"segment arrival to its line\): median ([\d.]+) s, p95 ([\d.]+) s, "
                        r"max ([\d.]+) s over (\d+) utterances", log)
        got = re.search(r"stream: (\d+) segments fetched, (\d+) lost", log)
        if not lat or not got:
            sys.exit(f"no latency or stream line in the log:\n{log}")
        p95 = float(lat[2])
        print(f"session: {wall:.0f} s wall for {total:.0f} s of stream")
        print("| model | utterances | median delay | p95 delay | max delay | p95 beyond segment "
              "| segments fetched | lost |")
        print("|---|---|---|---|---|---|---|---|")
        print(f"| {model} | {lat[4]} | {lat[1]} s | {lat[2]} s | {lat[3]} s | "
              f"{p95 - SEGMENT_S:.2f} s (target <= 3) | {got[1]} of {len(segments)} | {got[2]} |")


if __name__ == "__main__":
    main()
