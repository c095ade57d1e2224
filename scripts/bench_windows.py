"""How much of a WER difference between spacescribe and faster-whisper is where the 30 s
windows fall, not the engine (see scripts/bench-windows).

faster-whisper, by default, cuts the VAD's speech out of the recording, joins it, and
walks over the joined audio in 30 s windows, each starting where the last whole segment of
the one before ended, and conditions each window on the text before it. spacescribe
decodes independent chunks of up to 30 s that begin and end in pauses (so its workers can
run them in parallel). This runs faster-whisper int8 (greedy, word timestamps, same
weights) in several window layouts - its default; without conditioning; on the whole file
without VAD; on exactly spacescribe's chunks (`clip_timestamps`) - next to spacescribe, and
scores them all with the same normaliser. WER only: the timings are bench-transcribe's job.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_transcribe import CT2, ROOT, transcript_text, wer

CHUNK_LINE = re.compile(r"^chunk (\d+) \w+ pass from [\d.]+ \[([\d.]+)-([\d.]+)\]")


def spacescribe_run(audio, model, language, threads):
    """spacescribe's text and its chunks' (start, end), from its debug lines."""
    with tempfile.TemporaryDirectory() as out:
        p = subprocess.run(
            [str(ROOT / "target/release/spacescribe"), "transcribe", "--quiet", "--model", model,
             "--threads", str(threads), "--language", language, "--formats", "txt",
             "--no-diarize", "--out", out, str(audio)],
            capture_output=True, text=True, env={**os.environ, "SPACESCRIBE_DEBUG": "1"})
        if p.returncode != 0:
            sys.exit(f"error: spacescribe failed on {audio}:\n{p.stderr[-2000:]}")
        text = transcript_text(Path(out) / f"{Path(audio).stem}.txt")
    chunks = {}
    for line in p.stderr.splitlines():
        m = CHUNK_LINE.match(line)
        if m:
            chunks.setdefault(int(m[1]), (float(m[2]), float(m[3])))
    return text, [chunks[i] for i in sorted(chunks)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="base")
    ap.add_argument("--language", default="de")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("audio", nargs="*")
    a = ap.parse_args()
    from faster_whisper import WhisperModel

    fw = WhisperModel(str(CT2 / a.model), device="cpu", compute_type="int8",
                      cpu_threads=a.threads)
    print(f"model {a.model}, language {a.language}, greedy, word timestamps; "
          "faster-whisper int8 on the same weights\n")
    print("| audio | engine and windows | conditioned on the text before | WER % |")
    print("|---|---|---|---|")
    for audio in [Path(x) for x in a.audio] or [ROOT / "samples/german.m4a"]:
        ref = audio.with_name(audio.name.split(".")[0] + ".ref.txt").read_text()
        ours, chunks = spacescribe_run(audio, a.model, a.language, a.threads)
        clips = [t for c in chunks for t in c]
        rows = [("spacescribe: its own chunks (pauses, up to 30 s)", "no", ours)]
        layouts = [
            ("faster-whisper: VAD speech joined, 30 s windows (its default)", True, {"vad_filter": True}),
            ("faster-whisper: VAD speech joined, 30 s windows", False, {"vad_filter": True}),
            ("faster-whisper: whole file, 30 s windows, no VAD", False, {"vad_filter": False}),
            ("faster-whisper: spacescribe's chunks", False,
             {"vad_filter": False, "clip_timestamps": clips}),
            ("faster-whisper: spacescribe's chunks", True,
             {"vad_filter": False, "clip_timestamps": clips}),
        ]
        for name, conditioned, kw in layouts:
            segments, _ = fw.transcribe(str(audio), beam_size=1, word_timestamps=True,
                                        language=a.language, condition_on_previous_text=conditioned,
                                        **kw)
            rows.append((name, "yes" if conditioned else "no",
                         " ".join(s.text.strip() for s in segments)))
        for name, conditioned, text in rows:
            print(f"| {audio.name} | {name} | {conditioned} | {100 * wer(ref, text, a.language):.1f} |",
                  flush=True)
        print(f"\nspacescribe's {len(chunks)} chunks: "
              + ", ".join(f"{s:.1f}-{e:.1f}" for s, e in chunks))


if __name__ == "__main__":
    main()
