"""Side-by-side benchmark: spacescribe vs faster-whisper (see scripts/bench-transcribe).

Each engine runs in its own child process so peak RSS (ru_maxrss of that child) and wall
time are measured the same way for both. Both get the same audio, the same weights, the
same thread count, greedy decoding, VAD on, and word timestamps on.
"""

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jiwer

from textnorm import normalize

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "spacescribe"
MODELS = Path(os.environ.get("SPACESCRIBE_MODELS", CACHE / "models"))
CT2 = CACHE / "ct2"

FW_CHILD = r"""
import sys, json
from faster_whisper import WhisperModel
ct2, audio, compute_type, threads, lang = sys.argv[1:6]
m = WhisperModel(ct2, device="cpu", compute_type=compute_type, cpu_threads=int(threads))
segs, info = m.transcribe(audio, beam_size=1, vad_filter=True, word_timestamps=True,
                          language=None if lang == "auto" else lang)
print(json.dumps(" ".join(s.text.strip() for s in segs)))
"""


def run_child(cmd):
    """Run a command; return (wall seconds, peak RSS MiB of that child, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        # Long arguments (a Python child's source) would push the reason out of the message.
        shown = " ".join(str(c) if len(str(c)) < 200 else "<...>" for c in cmd)
        how = (f"was killed by {signal.Signals(-p.returncode).name}" if p.returncode < 0
               else f"exited {p.returncode}")
        sys.exit(f"error: {shown} {how}:\n{p.stderr[-2000:]}")
    # ru_maxrss of RUSAGE_CHILDREN is the max over all waited-for children; a fresh
    # interpreter per engine run keeps it per run (see main()).
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024.0, p.stdout


def wer(ref, hyp, language="en"):
    """WER of `hyp` against `ref`, both normalised as scripts/textnorm.py says."""
    if not hyp.strip():
        return 1.0
    return jiwer.wer(normalize(ref, language), normalize(hyp, language))


def transcript_text(txt_path):
    """The words of a spacescribe `.txt` transcript, without its "[time] SPEAKER:" heads."""
    return " ".join(l.split("] ", 1)[-1] for l in Path(txt_path).read_text().splitlines())


def duration_s(audio):
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(audio)],
        capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def one(args_json):
    """Child mode: run one engine once, print a JSON result line (keeps RSS per run)."""
    a = json.loads(args_json)
    if a["engine"] == "spacescribe":
        with tempfile.TemporaryDirectory() as out:
            wall, rss, _ = run_child([
                str(ROOT / "target/release/spacescribe"), "transcribe", "--quiet",
                "--model", a["model"], "--threads", str(a["threads"]), "--language", a["lang"],
                "--formats", "txt", "--no-diarize", "--out", out, a["audio"]])
            text = transcript_text(Path(out) / f"{Path(a['audio']).stem}.txt")
    else:
        wall, rss, stdout = run_child([
            sys.executable, "-c", FW_CHILD, str(CT2 / a["model"]), a["audio"],
            a["compute_type"], str(a["threads"]), a["lang"]])
        text = json.loads(stdout.strip().splitlines()[-1])
    print(json.dumps({"wall": wall, "rss": rss, "text": text}))


def measure(spec):
    p = subprocess.run([sys.executable, __file__, "--one", json.dumps(spec)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(p.stderr or p.stdout)
    return json.loads(p.stdout.strip().splitlines()[-1])


def summarize(results):
    """The median run (by wall time; its text, turns, ...), the spread of wall times as
    `min`/`max`, and the largest peak RSS of all the runs as `rss`."""
    by_wall = sorted(results, key=lambda r: r["wall"])
    median = by_wall[len(by_wall) // 2]
    return {**median, "min": by_wall[0]["wall"], "max": by_wall[-1]["wall"],
            "rss": max(r["rss"] for r in results)}


def our_weights():
    """What spacescribe multiplies with: its f16 files become bf16 in memory where
    whisper.cpp's system line shows AVX512_BF16 (see pipeline/transcribe/bf16.rs)."""
    info = subprocess.run([str(ROOT / "target/release/spacescribe"), "models", "system-info"],
                          capture_output=True, text=True).stdout
    if "AVX512_BF16 = 1" in info and os.environ.get("SPACESCRIBE_BF16", "1") != "0":
        return "f16 file, bf16 in memory"
    return "f16"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--models", default="tiny.en,base")
    ap.add_argument("--rounds", type=int, default=3,
                    help="runs of each engine, interleaved; the median wall time is reported")
    ap.add_argument("--language",
                    help="the recordings' language for both engines (default: en for .en "
                         "models, else detected); also picks the WER normaliser")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("audio", nargs="*")
    a = ap.parse_args()
    if a.rounds < 1:
        ap.error("--rounds must be at least 1")
    if a.one:
        return one(a.one)
    audios = [Path(x) for x in a.audio] or [ROOT / "samples/interview.wav", ROOT / "samples/panel.flac"]
    weights = our_weights()
    print(f"threads: {a.threads}; machine: {os.cpu_count()} cores; greedy, VAD on, word timestamps on\n")
    header = f"| audio | model | engine | wall s | RTF | peak RSS MiB | WER % | time ratio | RSS ratio |"
    print(header)
    print("|" + "---|" * 9)
    for audio in audios:
        ref_path = audio.with_name(audio.name.split(".")[0] + ".ref.txt")
        ref = ref_path.read_text() if ref_path.exists() else None
        dur = duration_s(audio)
        for model in a.models.split(","):
            lang = a.language or ("en" if model.endswith(".en") else "auto")
            specs = [(f"spacescribe (ggml {weights})",
                      {"engine": "spacescribe", "model": model, "threads": a.threads,
                       "audio": str(audio), "lang": lang})]
            for ct in ("int8", "float32"):
                specs.append((f"faster-whisper {ct}",
                              {"engine": "faster-whisper", "model": model, "threads": a.threads,
                               "audio": str(audio), "lang": lang, "compute_type": ct}))
            # Rounds interleave the engines (ours, int8, float32, ours, ...), so a slow
            # spell of a shared machine falls on all of them, not on one engine's runs.
            runs = {name: [] for name, _ in specs}
            for _ in range(a.rounds):
                for name, spec in specs:
                    runs[name].append(measure(spec))
            rows = [(name, summarize(runs[name])) for name, _ in specs]
            ours = rows[0][1]
            for name, r in rows:
                w = f"{100 * wer(ref, r['text'], a.language or 'en'):.1f}" if ref else "-"
                tr = f"{ours['wall'] / r['wall']:.2f}" if r is not ours else "1.00"
                rr = f"{ours['rss'] / r['rss']:.2f}" if r is not ours else "1.00"
                spread = f" ({r['min']:.1f}-{r['max']:.1f})" if a.rounds > 1 else ""
                print(f"| {audio.name} ({dur:.0f} s) | {model} | {name} | {r['wall']:.1f}{spread} | "
                      f"{r['wall'] / dur:.3f} | {r['rss']:.0f} | {w} | {tr} | {rr} |", flush=True)
    print("\ntime ratio and RSS ratio = spacescribe / that engine (below 1.0: spacescribe is faster / smaller)")
    if a.rounds > 1:
        print(f"wall s: median of {a.rounds} interleaved runs (fastest-slowest); peak RSS: the largest")


if __name__ == "__main__":
    main()
