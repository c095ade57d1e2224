"""The CPU line every benchmark prints first: model, cores and SIMD flags (ratios between
engines move with them: AVX2 only, or AVX-512 with VNNI/AMX)."""

import os


def cpu_line():
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
    simd = [f for f in flags if f in ("sse4_2", "avx", "avx2", "fma", "f16c")
            or f.startswith(("avx512", "amx", "avx_vnni"))]
    return f"CPU: {model} ({os.cpu_count()} cores); SIMD: {' '.join(simd) or 'none found'}"


if __name__ == "__main__":
    print(cpu_line())
