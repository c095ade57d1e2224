"""Score spacescribe's output on the samples (see scripts/eval).

Per sample: DER (collar 0.25 s each side, and none), WER, cpWER (speaker-attributed WER: each
reference speaker's words against the words of the found speaker mapped to them, the mapping
that makes the fewest errors), share error per speaker, and per speaker the counts reporters
quote - turns, interruptions made, backchannels - against the same counts computed from the
reference RTTM by `spacescribe stats` (one implementation of the definitions)."""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jiwer
import numpy as np
from scipy.optimize import linear_sum_assignment
from pyannote.core import Annotation, Segment
from pyannote.metrics.diarization import DiarizationErrorRate

from textnorm import normalize
from diarize_diagnose import judge_backchannels

ROOT = Path(__file__).resolve().parent.parent
AUDIO = {"interview": "interview.wav", "panel": "panel.flac", "pyannote-sample": "pyannote-sample.wav",
         "rapid": "rapid.m4a"}
DEFAULT = list(AUDIO)  # the English samples in git
# Samples in another language (scored with Whisper's basic normaliser; a multilingual
# model's default run adds them; spacescribe detects the language itself).
FOREIGN = {"german": ("german.m4a", "de")}
AUDIO.update({name: audio for name, (audio, _) in FOREIGN.items()})
# Samples too big for git, built by scripts/make-samples --<name>: name -> (folder, audio file).
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "spacescribe"
BUILT = {"long": (CACHE / "long-sample", "long.m4a"), "long-de": (CACHE / "long-de", "long-de.m4a")}
BUILT_LANGUAGE = {"long-de": "de"}


def sample_paths(name):
    """(audio, folder with <name>.rttm/.ref.json/.ref.txt) of a sample."""
    if name in BUILT:
        folder, audio = BUILT[name]
        if not (folder / audio).is_file():
            sys.exit(f"{folder / audio} missing: build it with scripts/make-samples --{name}")
        return folder / audio, folder
    return ROOT / "samples" / AUDIO.get(name, name), ROOT / "samples"


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


def language_of(name):
    return FOREIGN[name][1] if name in FOREIGN else BUILT_LANGUAGE.get(name, "en")


def ref_words_by_speaker(name):
    """Reference words per reference speaker label (the RTTM's), in time order."""
    turns = json.loads((sample_paths(name)[1] / f"{name}.ref.json").read_text())
    texts = {}
    for t in sorted(turns, key=lambda t: t["start"]):
        texts.setdefault(t["speaker"], []).append(t["text"])
    # Normalised per speaker, not per word: "two hundred" becomes "200" as in the WER.
    return {s: normalize(" ".join(ts), language_of(name)).split() for s, ts in texts.items()}


def hyp_words_by_speaker(doc, language):
    texts = {}
    for seg in doc["segments"]:
        for w in seg.get("words", []):
            texts.setdefault(w.get("speaker") or "?", []).append(w["word"])
    return {s: normalize(" ".join(ws), language).split() for s, ws in texts.items()}


def cpwer(ref, hyp):
    """Speaker-attributed WER: the pairing of reference and found speakers with the fewest
    word errors (a speaker left unpaired counts all their words as errors)."""
    refs, hyps = list(ref), list(hyp)
    n = max(len(refs), len(hyps))
    cost = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            r = " ".join(ref[refs[i]]) if i < len(refs) else ""
            h = " ".join(hyp[hyps[j]]) if j < len(hyps) else ""
            if not r:
                cost[i, j] = len(h.split())
            elif not h:
                cost[i, j] = len(r.split())
            else:
                m = jiwer.process_words(r, h)
                cost[i, j] = m.substitutions + m.deletions + m.insertions
    rows, cols = linear_sum_assignment(cost)
    return cost[rows, cols].sum() / sum(len(v) for v in ref.values())


def speaker_counts(stats_json):
    return {p["name"]: p for p in stats_json["speakers"]}


def count_ok(ref, hyp):
    """Within 1, or 10% of the reference, whichever is larger."""
    return abs(ref - hyp) <= max(1.0, 0.1 * ref)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="tiny.en")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--beam-size", type=int, help="passed to spacescribe (default: its own)")
    ap.add_argument("--keep", type=Path, help="keep each sample's outputs in KEEP/<sample>/")
    ap.add_argument("samples", nargs="*",
                    help=f"sample names (default: {' '.join(DEFAULT)}, and {' '.join(FOREIGN)} "
                         "for a multilingual model; also long and long-de once built)")
    a = ap.parse_args()
    english_only = a.model.endswith(".en")
    if not a.samples:
        a.samples = DEFAULT + ([] if english_only else list(FOREIGN))
    for name in a.samples:
        if english_only and language_of(name) != "en":
            ap.error(f"{name} is in {language_of(name)}; {a.model} is English only")
    rows = []
    for name in a.samples:
        audio, refs = sample_paths(name)
        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter()
            p = subprocess.run([str(ROOT / "target/release/spacescribe"), "transcribe", "--quiet",
                                "--model", a.model, *(["--beam-size", str(a.beam_size)] if a.beam_size else []), "--formats", "txt,json,rttm,stats.json", "--out", out, str(audio)],
                               capture_output=True, text=True)
            wall = time.perf_counter() - t0
            if p.returncode != 0:
                sys.exit(f"spacescribe failed on {audio}: {p.stderr}")
            stem = audio.stem
            hyp = read_rttm(Path(out) / f"{stem}.rttm")
            doc = json.loads((Path(out) / f"{stem}.json").read_text())
            hyp_stats = speaker_counts(json.loads((Path(out) / f"{stem}.stats.json").read_text()))
            if a.keep:
                shutil.copytree(out, a.keep / name, dirs_exist_ok=True)
        ref_stats = speaker_counts(json.loads(subprocess.run(
            [str(ROOT / "target/release/spacescribe"), "stats", str(refs / f"{name}.rttm")],
            check=True, capture_output=True, text=True).stdout))
        ref = read_rttm(refs / f"{name}.rttm")
        der_c = DiarizationErrorRate(collar=0.5, skip_overlap=False)  # pyannote's collar is the total width
        der_0 = DiarizationErrorRate(collar=0.0, skip_overlap=False)
        d_c = der_c(ref, hyp)
        parts = der_0(ref, hyp, detailed=True)
        d_0 = parts["diarization error rate"]
        # Where the no-collar error lies, as shares of the reference speech.
        d_0_parts = {k: parts[k] / parts["total"] for k in ("missed detection", "false alarm", "confusion")}
        mapping = der_0.optimal_mapping(ref, hyp)  # hyp label -> ref label
        ref_sh, hyp_sh = shares(ref), shares(hyp)
        mapped = {mapping.get(h, h): v for h, v in hyp_sh.items()}
        share_errs = {r: mapped.get(r, 0.0) - ref_sh[r] for r in ref_sh}
        share_err = max(abs(e) for e in share_errs.values())
        inverse = {r: h for h, r in mapping.items()}
        counts = {}
        for r, rs in ref_stats.items():
            hs = hyp_stats.get(inverse.get(r), {})
            counts[r] = {k: (rs[k], hs.get(k, 0)) for k in ("turns", "interruptions_made", "backchannels")}
        counts_ok = all(count_ok(a, b) for c in counts.values() for a, b in c.values())
        # The counts can agree while the backchannels found are someone else's or nobody's.
        tracks = lambda ann: [(s.start, s.end, l) for s, _, l in ann.itertracks(yield_label=True)]
        judged = judge_backchannels(tracks(ref), [(s, e, mapping.get(l, l)) for s, e, l in tracks(hyp)])
        backchannels_right = {r: len(judged[r]["right"]) if r in judged else 0 for r in counts}
        dominant_ok = max(ref_sh, key=ref_sh.get) == max(mapped, key=mapped.get)
        hyp_text = " ".join(s["text"] for s in doc["segments"])
        ref_text = (refs / f"{name}.ref.txt").read_text()
        lang = language_of(name)
        w = jiwer.wer(normalize(ref_text, lang), normalize(hyp_text, lang))
        cp = cpwer(ref_words_by_speaker(name), hyp_words_by_speaker(doc, lang))
        rows.append({"sample": name, "der_collar_0.25": d_c, "der_no_collar": d_0, "der_no_collar_parts": d_0_parts, "wer": w, "cpwer": cp,
                     "share_error_per_speaker": share_errs, "counts_ref_found": counts, "counts_ok": counts_ok,
                     "backchannels_found_right": backchannels_right,
                     "speakers_ref": len(ref.labels()), "speakers_found": len(hyp.labels()),
                     "max_share_error": share_err, "dominant_right": dominant_ok, "wall_s": wall})
    print(f"model {a.model}" + (f", beam size {a.beam_size}" if a.beam_size else "") + "\n")
    print("| sample | DER (collar 0.25) | DER (no collar: missed + false alarm + confusion) | WER | cpWER | speakers ref/found | max share error | dominant right | counts within 1/10% | wall s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['sample']} | {100*r['der_collar_0.25']:.1f}% | {100*r['der_no_collar']:.1f}% "
              f"({' + '.join(f'{100*v:.1f}' for v in r['der_no_collar_parts'].values())}) | {100*r['wer']:.1f}% | "
              f"{100*r['cpwer']:.1f}% | {r['speakers_ref']}/{r['speakers_found']} | {100*r['max_share_error']:.1f} pts | "
              f"{'yes' if r['dominant_right'] else 'NO'} | {'yes' if r['counts_ok'] else 'NO'} | {r['wall_s']:.1f} |")
    print("\nPer speaker: share error (points, found - reference); turns, interruptions made, "
          "backchannels as reference/found (* = off by more than 1 and 10%); of the backchannels "
          "found, how many are that speaker's own in the reference\n")
    print("| sample | speaker | share error | turns | interruptions | backchannels | backchannels right |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        for spk, c in r["counts_ref_found"].items():
            cells = [f"{a}/{b}{'' if count_ok(a, b) else ' *'}" for a, b in c.values()]
            print(f"| {r['sample']} | {spk} | {100*r['share_error_per_speaker'][spk]:+.1f} | " + " | ".join(cells)
                  + f" | {r['backchannels_found_right'][spk]} |")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
