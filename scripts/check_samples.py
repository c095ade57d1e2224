#!/usr/bin/env python3
"""Sanity-check the sample references against the audio (run via scripts/check-samples).

1. faster-whisper transcribes each sample; WER against <stem>.ref.txt.
2. Per speaker: the pieces nobody else talks over are cut out of the mix and
   transcribed alone, so an unintelligible voice shows up on its own.
3. RTTM boundaries vs. energy: at each piece edge with no other speech nearby,
   the mix must be loud just inside the edge and quiet just outside it.
4. Reference talk time per speaker (union of that speaker's RTTM segments).
"""

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import jiwer
import numpy as np
from faster_whisper import WhisperModel

SR = 16000
FRAME = 160  # 10 ms
# Spellings whisper prefers for words our references spell out.
SPELLING = {"mr": "mister", "ok": "okay", "mm hmm": "mm hm", "mhm": "mm hm"}


ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen " \
       "sixteen seventeen eighteen nineteen".split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def say_number(n: int) -> str:
    """Whisper writes numbers as digits, our references spell them out (0..9999)."""
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    if n < 1000:
        return ONES[n // 100] + " hundred" + ("" if n % 100 == 0 else " " + say_number(n % 100))
    if n < 10000:
        return ONES[n // 1000] + " thousand" + ("" if n % 1000 == 0 else " " + say_number(n % 1000))
    return str(n)


def norm(text: str) -> str:
    t = text.lower().replace("-", " ")
    t = re.sub(r"(?<=\d),(?=\d{3})", "", t)
    t = re.sub(r"\d+", lambda m: " " + say_number(int(m.group())) + " ", t)
    t = re.sub(r"[^a-z0-9' ]", " ", t)
    t = " ".join(t.split())
    for a, b in SPELLING.items():
        t = re.sub(rf"\b{a}\b", b, t)
    return t


def load(path: Path) -> np.ndarray:
    raw = subprocess.run(["sox", str(path), "-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1",
                          "-r", str(SR), "-"], check=True, stdout=subprocess.PIPE).stdout
    return np.frombuffer(raw, dtype="<f4").astype(np.float32)


def transcribe(model, audio: np.ndarray) -> str:
    # faster-whisper defaults: with condition_on_previous_text=False tiny.en dropped the last
    # 15 s of the interview.
    segs, _ = model.transcribe(audio, language="en", beam_size=5)
    return " ".join(s.text.strip() for s in segs)


def read_rttm(path: Path):
    out = []
    for line in path.read_text().splitlines():
        f = line.split()
        if f and f[0] == "SPEAKER":
            out.append((float(f[3]), float(f[3]) + float(f[4]), f[7]))
    return sorted(out)


def union_seconds(segs) -> float:
    total, cur_s, cur_e = 0.0, None, None
    for s, e in sorted(segs):
        if cur_e is None or s > cur_e:
            if cur_e is not None:
                total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    return total + (cur_e - cur_s if cur_e is not None else 0.0)


def talk_shares(rttm):
    by = {}
    for s, e, spk in rttm:
        by.setdefault(spk, []).append((s, e))
    secs = {spk: union_seconds(v) for spk, v in by.items()}
    total = sum(secs.values())
    return {spk: (round(v, 1), round(100 * v / total, 1)) for spk, v in sorted(secs.items(), key=lambda x: -x[1])}


def overlap_seconds(rttm) -> float:
    ev = sorted([(s, 1) for s, _, _ in rttm] + [(e, -1) for _, e, _ in rttm])
    depth, last, total = 0, 0.0, 0.0
    for t, d in ev:
        if depth >= 2:
            total += t - last
        depth += d
        last = t
    return total


def boundary_check(audio: np.ndarray, rttm, margin=0.3):
    """Fraction of isolated piece edges where energy rises/falls within 20 ms of the RTTM time."""
    n = len(audio) // FRAME
    db = 10 * np.log10(np.mean(audio[: n * FRAME].reshape(n, FRAME).astype(np.float64) ** 2, axis=1) + 1e-12)
    floor = np.percentile(db, 5)
    thr = floor + 12.0
    ok = total = 0
    bad = []
    for i, (s, e, spk) in enumerate(rttm):
        others = [(a, b) for j, (a, b, _) in enumerate(rttm) if j != i]
        for edge, inside, outside in ((s, (s, s + 0.03), (s - 0.25, s - 0.02)),
                                      (e, (e - 0.03, e), (e + 0.02, e + 0.25))):
            if any(a - margin < edge < b + margin for a, b in others):
                continue
            fi = slice(int(inside[0] * 100), max(int(inside[0] * 100) + 1, int(inside[1] * 100)))
            fo = slice(max(0, int(outside[0] * 100)), int(outside[1] * 100))
            if fo.stop <= fo.start:
                continue
            total += 1
            if db[fi].max() > thr and db[fo].max() < thr:
                ok += 1
            else:
                bad.append((spk, round(edge, 2)))
    return ok, total, bad, round(float(floor), 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", type=Path, required=True, help="CTranslate2 whisper model dir")
    ap.add_argument("--samples", type=Path, required=True)
    a = ap.parse_args()
    model = WhisperModel(str(a.model), device="cpu", compute_type="int8", cpu_threads=2)
    report = {}
    for stem, audio_name in (("interview", "interview.wav"), ("panel", "panel.flac"),
                             ("pyannote-sample", "pyannote-sample.wav")):
        audio = load(a.samples / audio_name)
        ref = norm((a.samples / f"{stem}.ref.txt").read_text())
        hyp = norm(transcribe(model, audio))
        out = jiwer.process_words(ref, hyp)
        r = {"seconds": round(len(audio) / SR, 2), "wer": round(out.wer, 4),
             "sub/del/ins": [out.substitutions, out.deletions, out.insertions], "ref_words": len(ref.split())}
        rttm = read_rttm(a.samples / f"{stem}.rttm")
        r["talk_seconds_share_pct"] = talk_shares(rttm)
        r["overlap_seconds"] = round(overlap_seconds(rttm), 2)
        ref_json = a.samples / f"{stem}.ref.json"
        if stem != "pyannote-sample":
            # Solo pieces per speaker (nobody else within 0.2 s), transcribed alone.
            turns = json.loads(ref_json.read_text())
            pieces = [(p["start"], p["end"], t["speaker"], p["text"]) for t in turns for p in t["pieces"]]
            solo = {}
            for i, (s, e, spk, text) in enumerate(pieces):
                if any(j != i and ps < e + 0.2 and pe > s - 0.2 for j, (ps, pe, _, _) in enumerate(pieces)):
                    continue
                clip = audio[int(s * SR): int(e * SR)]
                solo.setdefault(spk, ([], []))
                solo[spk][0].append(norm(text))
                solo[spk][1].append(norm(transcribe(model, clip)))
            r["solo_wer"] = {spk: [len(v[0]), round(jiwer.wer(" ".join(v[0]), " ".join(v[1])), 4)]
                             for spk, v in solo.items()}
            ok, total, bad, floor = boundary_check(audio, rttm)
            r["edges_ok"] = f"{ok}/{total}"
            r["edges_bad"] = bad
            r["noise_floor_db"] = floor
        report[stem] = r
        print(stem, json.dumps(r), flush=True)
        print("  hyp:", hyp[:3000], flush=True)
    bad = [s for s, r in report.items() if s != "pyannote-sample" and r["edges_ok"].split("/")[0] != r["edges_ok"].split("/")[1]]
    if bad:
        print("boundary check failed for", bad, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
