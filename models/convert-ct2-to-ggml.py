#!/usr/bin/env python3
"""Convert a CTranslate2 (faster-whisper) Whisper model directory into a whisper.cpp ggml file.

    convert-ct2-to-ggml.py CT2_DIR OUT.bin [f16|bf16|q8_0|q4_0]

f16 (default) matches the official ggml files. q8_0 stores the 2-D weight matrices as
ggml's 8-bit blocks (what whisper.cpp's quantize tool writes): about half the size and
faster matrix products on CPU, the counterpart of CTranslate2's int8. bf16 keeps 16-bit
weights in the format CPUs with AVX512-BF16 multiply natively; q4_0 is ggml's 4-bit block,
which ggml repacks for AVX2 matrix kernels at load time.

Needs only numpy. The ggml layout follows whisper.cpp's models/convert-pt-to-ggml.py and
the loader in whisper.cpp 1.8.3 (whisper_model_load): hparams, mel filters, vocabulary,
then tensors named like openai-whisper's state dict.
"""

import struct
import sys
from pathlib import Path

import numpy as np

GGML_MAGIC = 0x67676D6C
GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_Q4_0, GGML_TYPE_Q8_0, GGML_TYPE_BF16 = 0, 1, 2, 8, 30
# ggml_ftype of the file and ggml_type of its 2-D weight matrices, per weight type.
GGML_FTYPE = {"f16": 1, "q4_0": 2, "q8_0": 7, "bf16": 24}
MATRIX_TYPE = {"f16": GGML_TYPE_F16, "q4_0": GGML_TYPE_Q4_0, "q8_0": GGML_TYPE_Q8_0, "bf16": GGML_TYPE_BF16}
GGML_QNT_VERSION = 2
GGML_QNT_VERSION_FACTOR = 1000
QK8_0 = 32
CT2_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


def read_ct2(path):
    """CTranslate2 model.bin (binary version 6) -> {name: ndarray}."""
    data = Path(path).read_bytes()
    pos = 0

    def u(fmt):
        nonlocal pos
        v = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return v[0]

    def string():
        nonlocal pos
        n = u("H")
        s = data[pos:pos + n].rstrip(b"\0").decode()
        pos += n
        return s

    version = u("I")
    if version < 5:
        raise SystemExit(f"unsupported CTranslate2 model.bin version {version}")
    spec = string()
    u("I")  # spec revision
    if "Whisper" not in spec:
        raise SystemExit(f"not a Whisper model (spec {spec!r})")
    out = {}
    for _ in range(u("I")):
        name = string()
        rank = u("B")
        dims = [u("I") for _ in range(rank)]
        dtype = CT2_DTYPES[u("B")]
        nbytes = u("I")
        arr = np.frombuffer(data, dtype=dtype, count=nbytes // np.dtype(dtype).itemsize, offset=pos)
        pos += nbytes
        out[name] = arr.reshape(dims) if dims else arr
    return out


def mel_filters(sr=16000, n_fft=400, n_mels=80):
    """librosa.filters.mel(sr, n_fft, n_mels) with htk=False, norm='slaney' (what whisper uses)."""
    def hz_to_mel(f):
        f = np.asanyarray(f, dtype=np.float64)
        f_min, f_sp = 0.0, 200.0 / 3
        mels = (f - f_min) / f_sp
        min_log_hz = 1000.0
        min_log_mel = (min_log_hz - f_min) / f_sp
        logstep = np.log(6.4) / 27.0
        return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, min_log_hz) / min_log_hz) / logstep, mels)

    def mel_to_hz(m):
        m = np.asanyarray(m, dtype=np.float64)
        f_min, f_sp = 0.0, 200.0 / 3
        freqs = f_min + f_sp * m
        min_log_hz = 1000.0
        min_log_mel = (min_log_hz - f_min) / f_sp
        logstep = np.log(6.4) / 27.0
        return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), freqs)

    fftfreqs = np.fft.rfftfreq(n=n_fft, d=1.0 / sr)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sr / 2.0), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    weights = np.zeros((n_mels, 1 + n_fft // 2))
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    enorm = 2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels])
    weights *= enorm[:, np.newaxis]
    return weights.astype(np.float32)


def bytes_to_unicode():
    """GPT-2's byte <-> printable character table (the form CT2's vocabulary.txt uses)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def vocabulary(ct2_dir):
    """Regular (non-special) tokens as raw bytes, in id order; whisper.cpp adds the specials."""
    byte_decoder = {c: b for b, c in bytes_to_unicode().items()}
    tokens = []
    for line in (Path(ct2_dir) / "vocabulary.txt").read_text(encoding="utf-8").split("\n"):
        if line == "<|endoftext|>":
            break
        tokens.append(bytes(byte_decoder[c] for c in line))
    return tokens


def ggml_tensors(v):
    """Map CT2 variable names to openai-whisper names, splitting fused projections."""
    t = {}
    S = v["encoder/conv1/weight"].shape[0]

    def linear(dst, src):
        t[dst + ".weight"] = v[src + "/weight"]
        if src + "/bias" in v:
            t[dst + ".bias"] = v[src + "/bias"]

    def ln(dst, src):
        t[dst + ".weight"] = v[src + "/gamma"]
        t[dst + ".bias"] = v[src + "/beta"]

    def split(dst_names, src):
        w = v[src + "/weight"]
        b = v.get(src + "/bias")
        for i, dst in enumerate(dst_names):
            t[dst + ".weight"] = w[i * S:(i + 1) * S]
            # whisper's key projections have no bias (CT2 stores zeros there).
            if b is not None and not dst.endswith(".key"):
                t[dst + ".bias"] = b[i * S:(i + 1) * S]

    for i in (1, 2):
        t[f"encoder.conv{i}.weight"] = v[f"encoder/conv{i}/weight"]
        t[f"encoder.conv{i}.bias"] = v[f"encoder/conv{i}/bias"].reshape(-1, 1)
    t["encoder.positional_embedding"] = v["encoder/position_encodings/encodings"]
    ln("encoder.ln_post", "encoder/layer_norm")
    t["decoder.positional_embedding"] = v["decoder/position_encodings/encodings"]
    t["decoder.token_embedding.weight"] = v["decoder/embeddings/weight"]
    ln("decoder.ln", "decoder/layer_norm")

    for side in ("encoder", "decoder"):
        n = 0
        while f"{side}/layer_{n}/self_attention/linear_0/weight" in v:
            src, dst = f"{side}/layer_{n}", f"{side}.blocks.{n}"
            split([f"{dst}.attn.query", f"{dst}.attn.key", f"{dst}.attn.value"], f"{src}/self_attention/linear_0")
            linear(f"{dst}.attn.out", f"{src}/self_attention/linear_1")
            ln(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
            if side == "decoder":
                linear(f"{dst}.cross_attn.query", f"{src}/attention/linear_0")
                split([f"{dst}.cross_attn.key", f"{dst}.cross_attn.value"], f"{src}/attention/linear_1")
                linear(f"{dst}.cross_attn.out", f"{src}/attention/linear_2")
                ln(f"{dst}.cross_attn_ln", f"{src}/attention/layer_norm")
            linear(f"{dst}.mlp.0", f"{src}/ffn/linear_0")
            linear(f"{dst}.mlp.2", f"{src}/ffn/linear_1")
            ln(f"{dst}.mlp_ln", f"{src}/ffn/layer_norm")
            n += 1
    return t


def quantize_q8_0(x):
    """Rows of float values -> ggml block_q8_0 bytes: per 32 values, an f16 scale then 32 int8."""
    x = np.asarray(x, dtype=np.float32).reshape(-1, QK8_0)
    amax = np.abs(x).max(axis=1)
    d = amax / 127.0
    inv = np.where(d > 0, 1.0 / np.where(d > 0, d, 1.0), 0.0)
    q = np.round(x * inv[:, None]).astype(np.int8)
    blocks = np.empty(x.shape[0], dtype=[("d", "<f2"), ("qs", "i1", QK8_0)])
    blocks["d"] = d.astype(np.float16)
    blocks["qs"] = q
    return blocks.tobytes()


def quantize_q4_0(x):
    """Rows of float values -> ggml block_q4_0 bytes (quantize_row_q4_0_ref): per 32 values,
    an f16 scale then 16 bytes of 4-bit codes, value j in the low nibble of byte j and
    value 16 + j in the high nibble."""
    x = np.asarray(x, dtype=np.float32).reshape(-1, QK8_0)
    # The scale comes from the value of largest magnitude, with its sign: max / -8.
    signed_max = x[np.arange(x.shape[0]), np.abs(x).argmax(axis=1)]
    d = signed_max / -8.0
    inv = np.where(d != 0, 1.0 / np.where(d != 0, d, 1.0), 0.0)
    q = np.minimum(15, np.trunc(x * inv[:, None] + 8.5)).astype(np.uint8)
    blocks = np.empty(x.shape[0], dtype=[("d", "<f2"), ("qs", "u1", QK8_0 // 2)])
    blocks["d"] = d.astype(np.float16)
    blocks["qs"] = q[:, : QK8_0 // 2] | (q[:, QK8_0 // 2 :] << 4)
    return blocks.tobytes()


def to_bf16(x):
    """float values -> bf16 bytes, rounding to nearest even as ggml_fp32_to_bf16 does."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16).tobytes()


def layers(v, side):
    n = 0
    while f"{side}/layer_{n}/self_attention/linear_0/weight" in v:
        n += 1
    return n


def scalar(v, name, default):
    return int(np.asarray(v[name]).reshape(-1)[0]) if name in v else default


def main():
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    ct2_dir, out_path = Path(sys.argv[1]), Path(sys.argv[2])
    wtype = sys.argv[3] if len(sys.argv) == 4 else "f16"
    if wtype not in GGML_FTYPE:
        raise SystemExit(f"unknown weight type {wtype!r} ({', '.join(GGML_FTYPE)})")
    v = read_ct2(ct2_dir / "model.bin")
    conv1 = v["encoder/conv1/weight"]
    n_audio_state, n_mels = conv1.shape[0], conv1.shape[1]
    emb = v["decoder/embeddings/weight"]
    n_vocab, n_text_state = emb.shape
    hparams = [
        n_vocab,
        v["encoder/position_encodings/encodings"].shape[0],
        n_audio_state,
        scalar(v, "encoder/num_heads", n_audio_state // 64),
        layers(v, "encoder"),
        v["decoder/position_encodings/encodings"].shape[0],
        n_text_state,
        scalar(v, "decoder/num_heads", n_text_state // 64),
        layers(v, "decoder"),
        n_mels,
        GGML_FTYPE[wtype] + (GGML_QNT_VERSION * GGML_QNT_VERSION_FACTOR if wtype not in ("f16", "bf16") else 0),
    ]
    filters = mel_filters(n_mels=n_mels)
    tokens = vocabulary(ct2_dir)
    tensors = ggml_tensors(v)
    f32_names = {"encoder.conv1.bias", "encoder.conv2.bias", "encoder.positional_embedding", "decoder.positional_embedding"}
    tmp = out_path.with_name(out_path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<I", GGML_MAGIC))
        f.write(struct.pack("<11i", *hparams))
        f.write(struct.pack("<ii", *filters.shape))
        f.write(filters.tobytes())
        f.write(struct.pack("<i", len(tokens)))
        for tok in tokens:
            f.write(struct.pack("<I", len(tok)))
            f.write(tok)
        for name, data in tensors.items():
            data = np.asarray(data)
            # Same choice as whisper.cpp: matrices in the weight type, convolutions f16,
            # vectors, conv biases and positional embeddings f32.
            as_f16 = data.ndim >= 2 and name not in f32_names
            # (Block types need rows that are whole blocks.)
            as_matrix = data.ndim == 2 and as_f16 and (wtype in ("f16", "bf16") or data.shape[-1] % QK8_0 == 0)
            ttype = MATRIX_TYPE[wtype] if as_matrix else GGML_TYPE_F16 if as_f16 else GGML_TYPE_F32
            enc = name.encode()
            f.write(struct.pack("<iii", data.ndim, len(enc), ttype))
            f.write(struct.pack(f"<{data.ndim}i", *reversed(data.shape)))
            f.write(enc)
            if ttype == GGML_TYPE_Q8_0:
                f.write(quantize_q8_0(data))
            elif ttype == GGML_TYPE_Q4_0:
                f.write(quantize_q4_0(data))
            elif ttype == GGML_TYPE_BF16:
                f.write(to_bf16(data))
            else:
                f.write(np.ascontiguousarray(data.astype(np.float16 if as_f16 else np.float32)).tobytes())
    tmp.replace(out_path)
    print(f"{out_path}: {len(tensors)} tensors, n_vocab {n_vocab}, {len(tokens)} text tokens, "
          f"{hparams[4]}+{hparams[8]} layers, width {n_audio_state}")


if __name__ == "__main__":
    main()
