"""Score spacescribe's output on the samples (see scripts/eval)."""

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jiwer
from pyannote.core import Annotation, Segment
from pyannote.metrics.diarization import DiarizationErrorRate

ROOT = Path(__file__).resolve().parent.parent
AUDIO = {"interview": "interview.wav", "panel": "panel.flac", "pyannote-sample": "pyannote-sample.wav"}


def read_rttm(path):
    ann = Annotation()
    for line in Path(path).read_text().splitlines():
        f = line.split()
        if f and f[0] == "SPEAKER":
            start, dur = float(f[3]), float(f[4])
            ann[Segment(start, start + dur)] = f[7]
    return ann


def shares(ann):
    """Share of speech per label: union of the label's speech / union of all speech."""
    total = ann.get_timeline().support().duration()
    return {label: ann.label_timeline(label).support().duration() / total for label in ann.labels()}


def normalize(text):
    text = re.sub(r"[^\w\s']", " ", text.lower().replace("-", " "))
    return " ".join(text.split())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="tiny.en")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("samples", nargs="*", default=list(AUDIO))
    a = ap.parse_args()
    rows = []
    for name in a.samples:
        audio = ROOT / "samples" / AUDIO.get(name, name)
        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter()
            p = subprocess.run([str(ROOT / "target/release/spacescribe"), "transcribe", "--quiet",
                                "--model", a.model, "--formats", "txt,json,rttm", "--out", out, str(audio)],
                               capture_output=True, text=True)
            wall = time.perf_counter() - t0
            if p.returncode != 0:
                sys.exit(f"spacescribe failed on {audio}: {p.stderr}")
            stem = audio.stem
            hyp = read_rttm(Path(out) / f"{stem}.rttm")
            doc = json.loads((Path(out) / f"{stem}.json").read_text())
        ref = read_rttm(ROOT / "samples" / f"{name}.rttm")
        der_c = DiarizationErrorRate(collar=0.5, skip_overlap=False)  # pyannote's collar is the total width
        der_0 = DiarizationErrorRate(collar=0.0, skip_overlap=False)
        d_c, d_0 = der_c(ref, hyp), der_0(ref, hyp)
        mapping = der_0.optimal_mapping(ref, hyp)  # hyp label -> ref label
        ref_sh, hyp_sh = shares(ref), shares(hyp)
        mapped = {mapping.get(h, h): v for h, v in hyp_sh.items()}
        share_err = max(abs(ref_sh[r] - mapped.get(r, 0.0)) for r in ref_sh)
        dominant_ok = max(ref_sh, key=ref_sh.get) == max(mapped, key=mapped.get)
        hyp_text = " ".join(s["text"] for s in doc["segments"])
        ref_text = (ROOT / "samples" / f"{name}.ref.txt").read_text()
        w = jiwer.wer(normalize(ref_text), normalize(hyp_text))
        rows.append({"sample": name, "der_collar_0.25": d_c, "der_no_collar": d_0, "wer": w,
                     "speakers_ref": len(ref.labels()), "speakers_found": len(hyp.labels()),
                     "max_share_error": share_err, "dominant_right": dominant_ok, "wall_s": wall})
    print(f"model {a.model}\n")
    print("| sample | DER (collar 0.25) | DER (no collar) | WER | speakers ref/found | max share error | dominant right | wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['sample']} | {100*r['der_collar_0.25']:.1f}% | {100*r['der_no_collar']:.1f}% | {100*r['wer']:.1f}% | "
              f"{r['speakers_ref']}/{r['speakers_found']} | {100*r['max_share_error']:.1f} pts | "
              f"{'yes' if r['dominant_right'] else 'NO'} | {r['wall_s']:.1f} |")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
