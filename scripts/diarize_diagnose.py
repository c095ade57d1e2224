"""Where a run's speaker errors come from, set against a reference RTTM.

Runs spacescribe on the audio with SPACESCRIBE_DIARIZE_DUMP set (see
pipeline/diarize/diagnostics.rs), maps its speakers onto the reference's (most time in
common), and prints:

1. missed speech and false alarm (no collar, as in `scripts/eval`), frame by frame, by
   what put them there: outside the VAD's speech, a quiet pause, or what the segmentation
   heard (silence, another speaker, this speaker, windows disputing who speaks alone);
2. per reference speaker, how far the starts and ends of their stretches are off (negative:
   early) - the part of DER without collar that is boundaries;
3. per speaker, backchannels (under 1 s, inside another's stretch) found right, given to
   the wrong person, found where nobody made one, and missed; what the segmentation's runs
   made of the missed ones, and so the most the count could reach with every run the
   segmentation hears named right (what is past that needs a segmentation that hears more);
4. the runs the segmentation hears only under someone else's voice: named right, named
   wrong, left to nobody; and those where the reference has nobody under the floor holder.

Usage: scripts/diarize-diagnose AUDIO REFERENCE.rttm [--model NAME] [--keep DIR]
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

ROOT = Path(__file__).resolve().parent.parent
FRAME_S = 0.01
BACKCHANNEL_S = 1.0  # README "Statistics": a backchannel is shorter than this
EARLY_LATE_S = 0.05


def read_rttm(path):
    out = []
    for line in Path(path).read_text().splitlines():
        f = line.split()
        if f and f[0] == "SPEAKER":
            start = float(f[3])
            out.append((start, start + float(f[4]), f[7]))
    return out


def activity(segments, names, n_frames):
    m = np.zeros((len(names), n_frames), bool)
    for a, b, s in segments:
        m[names.index(s), int(round(a / FRAME_S)):int(round(b / FRAME_S))] = True
    return m


def spans_mask(spans, n_frames):
    m = np.zeros(n_frames, bool)
    for a, b in spans:
        m[int(round(a / FRAME_S)):int(round(b / FRAME_S))] = True
    return m


def stretches(row):
    d = np.diff(np.concatenate([[0], row.astype(int), [0]]))
    return list(zip(np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]))


def backchannels(segments):
    """(start, end, speaker, floor holder) of each stretch (a piece of the union of a
    speaker's speech, as `spacescribe stats` has it) under BACKCHANNEL_S inside one
    stretch of someone else's."""
    union = []
    for who in sorted({s for *_, s in segments}):
        for a, b in sorted((a, b) for a, b, s in segments if s == who):
            if union and union[-1][2] == who and a <= union[-1][1]:
                union[-1] = (union[-1][0], max(b, union[-1][1]), who)
            else:
                union.append((a, b, who))
    segments = union
    out = []
    for a, b, s in segments:
        if b - a >= BACKCHANNEL_S:
            continue
        floor = next((o for x, y, o in segments if o != s and x <= a and b <= y), None)
        if floor is not None:
            out.append((a, b, s, floor))
    return out


def overlap(a, b, c, d):
    return min(b, d) - max(a, c)


def judge_backchannels(ref, hyp):
    """Per reference speaker: the backchannels found for them (`hyp`'s speakers already
    named as the reference's) that are theirs ("right"), someone else's ("wrong"), nobody's
    ("nobody"), and theirs not found ("missed"), each as (start, end, speaker, floor holder);
    and how many the reference has ("reference")."""
    ref_bc, hyp_bc = backchannels(ref), backchannels(hyp)
    near = lambda x, y: overlap(x[0], x[1], y[0], y[1]) > -0.1
    out = {}
    for who in sorted({s for *_, s in ref}):
        mine = [b for b in hyp_bc if b[2] == who]
        right = [b for b in mine if any(r[2] == who and near(b, r) for r in ref_bc)]
        wrong = [b for b in mine if b not in right and any(near(b, r) for r in ref_bc)]
        out[who] = {
            "right": right,
            "wrong": wrong,
            "nobody": [b for b in mine if b not in right and b not in wrong],
            "missed": [r for r in ref_bc if r[2] == who
                       and not any(b[2] == who and near(b, r) for b in hyp_bc)],
            "reference": sum(1 for r in ref_bc if r[2] == who),
        }
    return out


def missed_heard_as(bc, runs, to_ref):
    """What the segmentation's runs made of a reference backchannel `bc` (start, end,
    speaker, floor holder) that was not found: "theirs" (a run named its speaker, lost later
    in the turns or the statistics), "someone else", "nobody" (a run no rule named), or
    "not heard" (no run but the floor holder's covers a tenth of a second of it, or half of
    a shorter one)."""
    a, b, who, floor = bc
    named = [to_ref.get(r["speaker"]) if r["speaker"] else None
             for r in runs if overlap(a, b, r["start"], r["end"]) >= min(0.1, 0.5 * (b - a))]
    named = [n for n in named if n != floor]
    if who in named:
        return "theirs"
    if any(n is not None for n in named):
        return "someone else"
    return "nobody" if named else "not heard"


def run_spacescribe(audio, model, out_dir):
    dump = Path(out_dir) / "diarize-dump.json"
    env = {**os.environ, "SPACESCRIBE_DIARIZE_DUMP": str(dump)}
    cmd = [str(ROOT / "target/release/spacescribe"), "transcribe", "--quiet", "--force",
           "--model", model, "--formats", "rttm", "--out", str(out_dir), str(audio)]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"error: spacescribe failed on {audio}: {p.stderr.strip()[-500:]}")
    return Path(out_dir) / f"{Path(audio).stem}.rttm", json.loads(dump.read_text())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("audio")
    ap.add_argument("reference")
    ap.add_argument("--model", default="tiny.en")
    ap.add_argument("--keep", help="keep the RTTM and the dump in this folder")
    a = ap.parse_args()
    for path in (a.audio, a.reference):
        if not Path(path).is_file():
            sys.exit(f"error: {path}: no such file")
    if a.keep:
        Path(a.keep).mkdir(parents=True, exist_ok=True)
        hyp_path, dump = run_spacescribe(a.audio, a.model, a.keep)
        hyp = read_rttm(hyp_path)
    else:
        with tempfile.TemporaryDirectory(prefix="diagnose-") as out_dir:
            hyp_path, dump = run_spacescribe(a.audio, a.model, out_dir)
            hyp = read_rttm(hyp_path)
    ref = read_rttm(a.reference)
    n = int(max(e for _, e, _ in ref + hyp) / FRAME_S) + 2
    ref_names = sorted({s for *_, s in ref})
    hyp_names = sorted({s for *_, s in hyp})
    R, H = activity(ref, ref_names, n), activity(hyp, hyp_names, n)
    common = np.array([[(R[i] & H[j]).sum() for j in range(len(hyp_names))]
                       for i in range(len(ref_names))])
    rows, cols = linear_sum_assignment(-common)
    to_ref = {hyp_names[j]: ref_names[i] for i, j in zip(rows, cols)}
    mapped = np.zeros_like(R)
    for j, h in enumerate(hyp_names):
        if h in to_ref:
            mapped[ref_names.index(to_ref[h])] |= H[j]
    total = R.sum()
    print(f"{Path(a.audio).name}, {a.model}: speakers {', '.join(f'{h} = {r}' for h, r in sorted(to_ref.items()))}")

    # 1. Missed speech and false alarm by cause.
    speech, pause = spans_mask(dump["speech"], n), spans_mask(dump["pauses"], n)
    heard = [("unknown", [])] * n
    for h in dump["heard"]:
        for f in range(int(round(h["start"] / FRAME_S)), min(n, int(round(h["end"] / FRAME_S)))):
            heard[f] = (h["kind"], [to_ref.get(s) for s in h["speakers"]])
    n_ref, n_hyp = R.sum(0), mapped.sum(0) + sum(H[j] for j, h in enumerate(hyp_names) if h not in to_ref)

    def cause(f, who):
        if not speech[f]:
            return "outside the VAD's speech"
        if pause[f]:
            return "a quiet pause"
        kind, speakers = heard[f]
        if kind == "unknown":
            return "segmentation: no window says"
        if kind == "one_of":
            return "segmentation: windows dispute who"
        if not speakers:
            return "segmentation: silence"
        return "segmentation: this speaker" if who in speakers else "segmentation: someone else"

    print("\n1. Missed speech and false alarm (% of reference speech), by what the frame was:")
    for label, err in (("missed", R & ~mapped & (n_hyp < n_ref)),
                       ("false alarm", mapped & ~R & (n_hyp > n_ref))):
        causes = collections.Counter()
        for i, who in enumerate(ref_names):
            for f in np.nonzero(err[i])[0]:
                causes[cause(f, who)] += 1
        print(f"   {label} {100 * err.sum() / total:.2f}: " + "; ".join(
            f"{c} {100 * k / total:.2f}" for c, k in causes.most_common()))
    confusion = (np.minimum(n_ref, n_hyp) - (R & mapped).sum(0)).sum()
    print(f"   confusion {100 * confusion / total:.2f}")

    # 2. Boundaries.
    print(f"\n2. Starts and ends of each reference speaker's stretches against the nearest found "
          f"(seconds; early/late = over {EARLY_LATE_S * 1000:.0f} ms):")
    for i, who in enumerate(ref_names):
        found = stretches(mapped[i])
        if not found:
            continue
        starts, ends = np.array([s for s, _ in found]), np.array([e for _, e in found])
        line = []
        for what, mine, theirs in (("starts", [s for s, _ in stretches(R[i])], starts),
                                   ("ends", [e for _, e in stretches(R[i])], ends)):
            d = np.array([theirs[np.argmin(abs(theirs - x))] - x for x in mine]) * FRAME_S
            d = d[abs(d) < 0.5]
            if len(d):
                line.append(f"{what} median {np.median(d):+.3f}, {int((d < -EARLY_LATE_S).sum())} early, "
                            f"{int((d > EARLY_LATE_S).sum())} late of {len(d)}")
        print(f"   {who}: " + "; ".join(line))

    # 3. Backchannels.
    print("\n3. Backchannels per speaker: found right / given to this speaker but someone "
          "else's / found where nobody made one / missed (of the reference's):")
    judged = judge_backchannels(ref, [(s, e, to_ref.get(w, w)) for s, e, w in hyp])
    at = lambda xs: (" (" + ", ".join(f"{x[0]:.1f}" for x in xs[:6]) + (" ..." if len(xs) > 6 else "") + ")") if xs else ""
    for who in ref_names:
        j = judged[who]
        print(f"   {who}: {len(j['right'])} / {len(j['wrong'])}{at(j['wrong'])} / "
              f"{len(j['nobody'])}{at(j['nobody'])} / {len(j['missed'])}{at(j['missed'])} of {j['reference']}")
    print("   Of the missed, what the segmentation's runs made of them: heard and named theirs "
          "(lost in the turns) / named someone else / left to nobody / not heard under the "
          "floor holder at all; and the most the segmentation allows, every heard one named "
          "right and nothing else credited (* = still off by more than 1 and 10%):")
    for who in ref_names:
        j = judged[who]
        heard_as = collections.Counter(missed_heard_as(b, dump["runs"], to_ref) for b in j["missed"])
        best = len(j["right"]) + sum(k for v, k in heard_as.items() if v != "not heard")
        off = abs(best - j["reference"]) > max(1, 0.1 * j["reference"])
        print(f"   {who}: {heard_as['theirs']} / {heard_as['someone else']} / {heard_as['nobody']} / "
              f"{heard_as['not heard']}; at most {best} of {j['reference']}{' *' if off else ''}")

    # 4. Runs heard only under another voice.
    judged = collections.Counter()
    by_window = collections.defaultdict(list)
    for run in dump["runs"]:
        by_window[run["window"]].append(run)
    for run in dump["runs"]:
        s, e = run["start"], run["end"]
        if not run["overlapped"] or e <= s:
            continue
        # Under another voice for most of it: other local speakers of its window speak then
        # (a short run heard alone is "overlapped" too: too little solo audio to embed).
        under = sum(max(0.0, overlap(s, e, o["start"], o["end"])) for o in by_window[run["window"]]
                    if o["local"] != run["local"])
        if under < 0.5 * (e - s):
            continue
        speaking = {w for a0, b0, w in ref if overlap(s, e, a0, b0) > 0.3 * (e - s)}
        real = len(speaking) >= 2
        named = to_ref.get(run["speaker"]) if run["speaker"] else None
        verdict = "nobody" if run["speaker"] is None else ("right" if named in speaking else "wrong")
        judged[(real, verdict)] += 1
    print("\n4. Runs of a local speaker heard only under someone else's voice (one per window "
          "that hears them):")
    print(f"   a second voice in the reference: named right {judged[(True, 'right')]}, named wrong "
          f"{judged[(True, 'wrong')]}, left to nobody {judged[(True, 'nobody')]}")
    print(f"   nobody under the floor holder:   named {judged[(False, 'right')] + judged[(False, 'wrong')]}, "
          f"left to nobody {judged[(False, 'nobody')]}")
    if a.keep:
        print(f"\n(RTTM and dump kept in {a.keep})")


if __name__ == "__main__":
    main()
