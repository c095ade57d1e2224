"""The lines every benchmark prints first: the CPU's model, cores and SIMD flags (ratios
between engines move with them: AVX2 only, or AVX-512 with VNNI/AMX), and what whisper.cpp
in the built binary uses of them (its system info line)."""

import os
import subprocess
from pathlib import Path

BINARY = Path(__file__).resolve().parent.parent / "target" / "release" / "spacescribe"


def cpu_model_and_flags():
    """(model name, flags) of the first CPU in /proc/cpuinfo."""
    model, flags = "unknown CPU", []
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name") and model == "unknown CPU":
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = line.split(":", 1)[1].split()
                break
    except OSError:
        pass
    return model, flags


def cpu_line():
    model, flags = cpu_model_and_flags()
    simd = [f for f in flags if f in ("sse4_2", "avx", "avx2", "fma", "f16c")
            or f.startswith(("avx512", "amx", "avx_vnni"))]
    return f"CPU: {model} ({os.cpu_count()} cores); SIMD: {' '.join(simd) or 'none found'}"


def whisper_line():
    try:
        out = subprocess.run([str(BINARY), "models", "system-info"], capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError) as e:
        return f"whisper.cpp: system info not available ({e})"


if __name__ == "__main__":
    print(cpu_line())
    print(whisper_line())
