#!/usr/bin/env python3
"""Convert Silero VAD's safetensors weights (PyPI silero-vad, silero_vad_16k.safetensors)
into the ggml file whisper.cpp's VAD loader reads.

    convert-silero-to-ggml.py silero_vad_16k.safetensors VERSION OUT.bin

Needs only numpy. The layout mirrors whisper.cpp's models/convert-silero-vad-to-ggml.py
(which needs torch): header, architecture numbers, then tensors under the names of the
torch JIT model (`_model.encoder.N.reparam_conv.*`, `_model.decoder.rnn.*`, ...).
"""

import json
import struct
import sys
from pathlib import Path

import numpy as np

GGML_MAGIC = 0x67676D6C
# safetensors name -> name in the torch model that whisper.cpp expects
NAMES = [
    ("conv1.weight", "_model.encoder.0.reparam_conv.weight"),
    ("conv1.bias", "_model.encoder.0.reparam_conv.bias"),
    ("conv2.weight", "_model.encoder.1.reparam_conv.weight"),
    ("conv2.bias", "_model.encoder.1.reparam_conv.bias"),
    ("conv3.weight", "_model.encoder.2.reparam_conv.weight"),
    ("conv3.bias", "_model.encoder.2.reparam_conv.bias"),
    ("conv4.weight", "_model.encoder.3.reparam_conv.weight"),
    ("conv4.bias", "_model.encoder.3.reparam_conv.bias"),
    ("lstm_cell.weight_ih", "_model.decoder.rnn.weight_ih"),
    ("lstm_cell.weight_hh", "_model.decoder.rnn.weight_hh"),
    ("lstm_cell.bias_ih", "_model.decoder.rnn.bias_ih"),
    ("lstm_cell.bias_hh", "_model.decoder.rnn.bias_hh"),
    ("final_conv.weight", "_model.decoder.decoder.2.weight"),
    ("final_conv.bias", "_model.decoder.decoder.2.bias"),
    ("stft_conv.weight", "_model.stft.forward_basis_buffer"),
]


def read_safetensors(path):
    data = Path(path).read_bytes()
    n = struct.unpack_from("<Q", data, 0)[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise SystemExit(f"{name}: expected F32, got {info['dtype']}")
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(data[8 + n + a:8 + n + b], dtype=np.float32).reshape(info["shape"])
    return out


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    src, version, out_path = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    major, minor, patch = map(int, version.split("."))
    t = read_safetensors(src)
    tmp = out_path.with_name(out_path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<i", GGML_MAGIC))
        kind = b"silero-16k"
        f.write(struct.pack("<i", len(kind)) + kind)
        f.write(struct.pack("<3i", major, minor, patch))
        f.write(struct.pack("<2i", 512, 64))  # window size, context size
        f.write(struct.pack("<i", 4))  # encoder layers
        for cin, cout in [(129, 128), (128, 64), (64, 64), (64, 128)]:
            f.write(struct.pack("<3i", cin, cout, 3))
        f.write(struct.pack("<2i", 128, 128))  # LSTM input, hidden
        f.write(struct.pack("<2i", 128, 1))  # final conv in, out
        for st_name, name in NAMES:
            data = t[st_name]
            if name == "_model.stft.forward_basis_buffer":
                shape = list(reversed(data.shape))  # 3-D, not squeezed
            else:
                data = np.squeeze(data)
                shape = list(reversed(data.shape))
            conv_weight = "stft" in name or ("weight" in name and ("encoder" in name or "decoder.decoder.2" in name))
            data = data.astype(np.float16 if conv_weight else np.float32)
            enc = name.encode()
            f.write(struct.pack("<3i", len(shape), len(enc), 1 if conv_weight else 0))
            f.write(struct.pack(f"<{len(shape)}i", *shape))
            f.write(enc)
            f.write(np.ascontiguousarray(data).tobytes())
    tmp.replace(out_path)
    print(f"{out_path}: Silero VAD {version}, {len(NAMES)} tensors")


if __name__ == "__main__":
    main()
