"""Whole-pipeline benchmark: spacescribe vs faster-whisper + senko, or pyannote.audio 4 where senko
cannot run (see scripts/bench-pipeline and scripts/pyannote_peer.py).

spacescribe runs as a user runs it: `transcribe --quiet --model M --threads N --out DIR AUDIO`
(default outputs, speakers on); its counted time is the whole process, model loading included.

The peer runs in one child process with the same thread count:
  1. warm-up (reported, not counted): import torch + senko, senko.Diarizer(device="cpu",
     warmup=True) (loads CAM++ and Silero VAD, warms CAM++ and JIT-compiles / caches the numba
     code of UMAP+HDBSCAN), then diarizes the first WARMUP_S s of samples/pyannote-sample.wav
     (other audio than the benchmarked file) so the first real call pays no first-call costs;
  2. counted: faster-whisper 1.2.1 int8 - import, WhisperModel(ct2_dir, device="cpu",
     compute_type="int8", cpu_threads=N) load and transcribe(beam_size=1, vad_filter=True,
     word_timestamps=True) - then senko on the whole file: decode (faster-whisper's PyAV decoder,
     16 kHz mono float) and Diarizer.diarize_samples. Its result is senko's documented output,
     `merged_segments` (what senko.save_rttm writes).
  Where senko cannot run (its prebuilt fbank library needs AVX-512: SIGILL) or with --peer
  pyannote, the speakers come from pyannote.audio 4's SpeakerDiarization instead, built by
  scripts/pyannote_peer.py from the same registry weights (warm-up: import, building the
  pipeline, diarizing the same clip; counted: decode + the pipeline on the whole file).

Peak RSS: each engine runs as a child of a fresh interpreter (`--one`), so ru_maxrss of
RUSAGE_CHILDREN is that child's alone, as in bench_transcribe.py. The peer child reads its own
peak (VmHWM) after the warm-up and then resets it (/proc/self/clear_refs 5), so the parent sees
the peak of the counted part; the child's peak is the larger of the two, and both are shown.

DER: pyannote.metrics, collar 0.25 s each side (collar=0.5 total width), overlap scored, RTTMs
read as scripts/eval.py reads them; WER: jiwer after scripts/textnorm.py (Whisper's normaliser).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_transcribe import CT2, ROOT, duration_s, run_child, summarize, wer  # noqa: E402
from cpu_info import cpu_model_and_flags  # noqa: E402
# scripts/eval.py and pyannote are imported by main() only: the `--one` process that runs an
# engine stays small (a child's ru_maxrss counts its parent's size at the moment of exec).

WARMUP_CLIP = ROOT / "samples/pyannote-sample.wav"
WARMUP_S = 15

PEER_CHILD = r"""
import json, sys, time, traceback, wave
ct2, audio, threads, clip_path, clip_s, diarizer, scripts_dir = sys.argv[1:8]
threads = int(threads)

def status_mib(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0

phase = f"{diarizer} import"
try:
    t0 = time.perf_counter()
    import numpy as np, torch
    torch.set_num_threads(threads)
    if diarizer == "senko":
        import senko
        phase = "senko.Diarizer(device='cpu', warmup=True)"
        d = senko.Diarizer(device="cpu", warmup=True, quiet=True)
        d.logical_cores = threads  # senko sets torch back to this many threads after its VAD
        d._set_torch_num_threads()
        def diarize(samples, name):
            r = d.diarize_samples(samples, source_name=name)
            turns = [[s["start"], s["end"], s["speaker"]] for s in (r or {}).get("merged_segments", [])]
            return turns, {"senko_vad": d.vad_model_type, "stages": (r or {}).get("timing_stats", {})}
    else:
        sys.path.insert(0, scripts_dir)
        import pyannote.audio, pyannote_peer
        phase = "pyannote.audio SpeakerDiarization"
        pipeline = pyannote_peer.build_pipeline()
        def diarize(samples, name):
            return pyannote_peer.diarize(pipeline, samples), {"pyannote.audio": pyannote.audio.__version__}
    phase = f"{diarizer} warm-up diarization"
    with wave.open(clip_path) as w:
        clip = np.frombuffer(w.readframes(int(float(clip_s) * w.getframerate())), dtype="<i2")
    diarize(clip.astype(np.float32) / 32768.0 if diarizer != "senko" else clip, "warm-up")
    warmup = time.perf_counter() - t0
    warm_rss = status_mib("VmHWM")
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the peak RSS: the parent then sees the counted part's peak
        reset = True
    except OSError:
        reset = False
    held_rss = status_mib("VmRSS")  # what the warmed-up diarizer keeps resident

    phase = "faster-whisper"
    t0 = time.perf_counter()
    from faster_whisper import WhisperModel, decode_audio
    m = WhisperModel(ct2, device="cpu", compute_type="int8", cpu_threads=threads)
    segs, info = m.transcribe(audio, beam_size=1, vad_filter=True, word_timestamps=True)
    text = " ".join(s.text.strip() for s in segs)
    asr = time.perf_counter() - t0

    phase = f"{diarizer} diarization"
    t0 = time.perf_counter()
    turns, about = diarize(decode_audio(audio, sampling_rate=16000), audio)
    diar = time.perf_counter() - t0
    print(json.dumps({"warmup": warmup, "warm_rss": warm_rss, "rss_reset": reset, "held_rss": held_rss, "asr": asr,
                      "diar": diar, "text": text, "turns": turns,
                      "torch": torch.__version__, "about": about}))
except Exception as e:
    print(json.dumps({"error": f"{phase}: {type(e).__name__}: {e}",
                      "traceback": traceback.format_exc()[-3000:]}))
"""


def one(args_json):
    """Child mode: run one engine once, print a JSON result line (keeps RSS per run)."""
    a = json.loads(args_json)
    stem = Path(a["audio"]).stem
    if a["engine"] == "spacescribe":
        with tempfile.TemporaryDirectory() as out:
            wall, rss, _ = run_child([
                str(ROOT / "target/release/spacescribe"), "transcribe", "--quiet",
                "--model", a["model"], "--threads", str(a["threads"]), "--out", out, a["audio"]])
            doc = json.loads((Path(out) / f"{stem}.json").read_text())
            rttm = (Path(out) / f"{stem}.rttm").read_text()
        turns = []
        for line in rttm.splitlines():
            f = line.split()
            if f and f[0] == "SPEAKER":
                turns.append([float(f[3]), float(f[3]) + float(f[4]), f[7]])
        text = " ".join(s["text"] for s in doc["segments"])
        print(json.dumps({"wall": wall, "rss": rss, "text": text, "turns": turns}))
    else:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
            os.environ[var] = str(a["threads"])  # torch, BLAS and numba in the peer: N threads
        wall, rss, stdout = run_child([
            sys.executable, "-c", PEER_CHILD, str(CT2 / a["model"]), a["audio"], str(a["threads"]),
            str(WARMUP_CLIP), str(WARMUP_S), a["diarizer"], str(Path(__file__).resolve().parent)])
        r = json.loads(stdout.strip().splitlines()[-1])
        r.update({"process_wall": wall, "rss_counted": rss})
        if "error" not in r:
            r["wall"] = r["asr"] + r["diar"]
            r["rss"] = max(rss, r["warm_rss"]) if r["rss_reset"] else rss
        print(json.dumps(r))


def senko_sigill_reason():
    """Why senko dies with SIGILL on some CPUs: its wheel ships a prebuilt fbank library
    compiled for AVX-512 (zmm registers), which CPUs without AVX-512F cannot run."""
    import senko
    lib = Path(senko.__file__).parent / "libfbank_extractor.so"
    _, flags = cpu_model_and_flags()
    try:
        dis = subprocess.run(["objdump", "-d", str(lib)], capture_output=True, text=True).stdout
        zmm = dis.count("zmm")
    except OSError:
        zmm = -1
    return (f"senko's prebuilt {lib.name} uses AVX-512 instructions ({zmm} zmm register operands, "
            f"by objdump) and this CPU has {'AVX-512F' if 'avx512f' in flags else 'no AVX-512F'}: "
            f"killed by SIGILL in senko's fbank extraction")


def measure(spec):
    p = subprocess.run([sys.executable, __file__, "--one", json.dumps(spec)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        why = (p.stderr or p.stdout).strip()[-2000:]
        if spec.get("diarizer") == "senko" and "killed by SIGILL" in why:
            reason = senko_sigill_reason()
            return {"error": f"peer failed: {reason}\n{why}", "senko_sigill": reason}
        return {"error": f"{spec['engine']} failed: {why}"}
    return json.loads(p.stdout.strip().splitlines()[-1])


SENKO_CANNOT_RUN = []  # why, once senko has died with SIGILL: later runs go straight to pyannote


def measure_peer(spec, choice):
    """The peer with senko for the speakers, or - where senko cannot run (`auto`) or when asked -
    with pyannote.audio 4's pipeline (scripts/pyannote_peer.py). Returns (result, why senko was
    not used or None)."""
    if choice == "pyannote":
        why = "asked for with --peer pyannote"
    elif choice == "auto" and SENKO_CANNOT_RUN:
        why = SENKO_CANNOT_RUN[0]
    else:
        r = measure({**spec, "engine": "peer", "diarizer": "senko"})
        if choice == "senko" or not r.get("senko_sigill"):
            return r, None
        why = r["senko_sigill"]
        SENKO_CANNOT_RUN.append(why)
    return measure({**spec, "engine": "peer", "diarizer": "pyannote"}), why


PEER_LABELS = {"senko": "faster-whisper int8 + senko 0.2.2",
               "pyannote": "faster-whisper int8 + pyannote.audio 4 (CAM++)"}


def der(ref, turns):
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate
    import warnings
    warnings.filterwarnings("ignore", message="'uem' was approximated")
    hyp = Annotation()
    for start, end, label in turns:
        if end > start:
            hyp[Segment(start, end)] = label
    return DiarizationErrorRate(collar=0.5, skip_overlap=False)(ref, hyp)  # collar = total width


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--models", default="tiny.en,base")
    ap.add_argument("--peer", choices=("auto", "senko", "pyannote"), default="auto",
                    help="the peer's speaker diarization: senko, pyannote.audio 4, or senko where it "
                         "runs and pyannote.audio where it cannot (default)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="runs of each engine, interleaved; the median is reported with the spread "
                         "(default 1: the peer takes minutes per run)")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("audio", nargs="*")
    a = ap.parse_args()
    if a.rounds < 1:
        ap.error("--rounds must be at least 1")
    if a.one:
        return one(a.one)
    from eval import read_rttm
    audios = [Path(x) for x in a.audio] or [ROOT / "samples/panel.flac", ROOT / "samples/rapid.m4a"]
    print(f"threads: {a.threads}; machine: {os.cpu_count()} cores; greedy, VAD on, word timestamps on; "
          f"spacescribe: default outputs, speakers on; peer: faster-whisper 1.2.1 int8 + "
          f"{'senko 0.2.2 (pyannote.audio 4 where senko cannot run)' if a.peer == 'auto' else PEER_LABELS[a.peer]} "
          f"(CPU, warm-up on the first {WARMUP_S} s of {WARMUP_CLIP.name}, not counted)")
    for audio in audios:
        name = audio.name.split(".")[0]
        ref_txt, ref_rttm = audio.with_name(f"{name}.ref.txt"), audio.with_name(f"{name}.rttm")
        ref_text = ref_txt.read_text() if ref_txt.exists() else None
        ref = read_rttm(ref_rttm) if ref_rttm.exists() else None
        dur = duration_s(audio)
        for model in a.models.split(","):
            spec = {"model": model, "threads": a.threads, "audio": str(audio.resolve())}
            # Rounds interleave the engines (ours, peer, ours, ...), so a slow spell of a
            # shared machine falls on both, not on one engine's runs. A failed run ends them.
            ours_runs, peer_runs = [], []
            for _ in range(a.rounds):
                ours_runs.append(measure({**spec, "engine": "spacescribe"}))
                peer_run, no_senko = measure_peer(spec, a.peer)
                peer_runs.append(peer_run)
                if "error" in ours_runs[-1] or "error" in peer_run:
                    break
            ours = ours_runs[-1] if "error" in ours_runs[-1] else summarize(ours_runs)
            peer = peer_runs[-1] if "error" in peer_runs[-1] else summarize(peer_runs)
            if "error" not in peer:  # its counted part's peak, like the whole one: the largest
                peer["rss_counted"] = max(r["rss_counted"] for r in peer_runs)
            print(f"\n### {audio.name} ({dur:.0f} s), {model}\n")
            if no_senko:
                print(f"senko not used: {no_senko}. The peer's speakers come from pyannote.audio 4's CPU "
                      f"pipeline with the same segmentation model (scripts/pyannote_peer.py).\n")
            print("| engine | wall s (counted) | ASR s | diarization s | warm-up s (not counted) | "
                  "peak RSS MiB | DER % (collar 0.25) | WER % | speakers ref/found | time ratio |")
            print("|" + "---|" * 10)
            peer_label = PEER_LABELS["pyannote" if no_senko else "senko"]
            for label, r in (("spacescribe (full pipeline)", ours), (peer_label, peer)):
                if "error" in r:
                    print(f"| {label} | failed: {r['error'].splitlines()[0] if r['error'] else '?'} |" + " |" * 8)
                    continue
                d = f"{100 * der(ref, r['turns']):.1f}" if ref is not None else "-"
                w = f"{100 * wer(ref_text, r['text']):.1f}" if ref_text else "-"
                spk = f"{len(ref.labels()) if ref is not None else '-'}/{len({t[2] for t in r['turns']})}"
                if r is ours:
                    parts, warm, rss, ratio = "- | -", "-", f"{r['rss']:.0f}", "1.00"
                else:
                    parts, warm = f"{r['asr']:.1f} | {r['diar']:.1f}", f"{r['warmup']:.1f}"
                    rss = f"{r['rss']:.0f} (counted part {r['rss_counted']:.0f})" if r["rss_reset"] else f"{r['rss']:.0f}"
                    ratio = f"{ours['wall'] / r['wall']:.2f}" if "error" not in ours else "-"
                spread = f" ({r['min']:.1f}-{r['max']:.1f})" if a.rounds > 1 else ""
                print(f"| {label} | {r['wall']:.1f}{spread} | {parts} | {warm} | {rss} | {d} | {w} | {spk} | {ratio} |",
                      flush=True)
            for r in (ours, peer):
                if "error" in r:
                    print(f"\n{r['error']}\n{r.get('traceback', '')}")
            if "error" not in peer:
                about = dict(peer["about"])
                stages = about.pop("stages", {})
                print(f"\npeer child: {peer['process_wall']:.1f} s in all (warm-up + counted + interpreter); "
                      f"resident after warm-up {peer['held_rss']:.0f} MiB; torch {peer['torch']}; "
                      + ", ".join(f"{k} {v}" for k, v in about.items())
                      + ("; senko stages (s): " + ", ".join(f"{k.removesuffix('_time')} {v}" for k, v in stages.items()
                                                             if k != "total_time") if stages else ""))
    print("\ntime ratio = spacescribe wall / peer counted wall (below 1.0: spacescribe is faster). "
          "Counted for the peer: faster-whisper import + model load + transcription, then decoding and "
          "diarization after warm-up; the warm-up (importing torch and the diarizer, loading and warming its "
          "models, one short diarization) is shown beside it. Peak RSS of the peer is its whole process, "
          "warm-up included; in brackets the peak during the counted part alone.")
    if a.rounds > 1:
        print(f"wall s: median of {a.rounds} interleaved runs (fastest-slowest); DER, WER, ASR and "
              "diarization s are the median run's; peak RSS: the largest")


if __name__ == "__main__":
    main()
