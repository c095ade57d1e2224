"""The one text normalisation every WER in this project is scored with.

Whisper's own normalisers (OpenAI's, packaged on PyPI as `whisper-normalizer`): for English
`EnglishTextNormalizer` - lower case, punctuation and hyphens to spaces, numbers and
British spellings standardised ("two hundred" and "200" alike, "colour" as "color"), the
hesitations "hmm", "mm", "uh", "um" dropped - and for other languages
`BasicTextNormalizer` (lower case, symbols to spaces, umlauts kept). This is how the
Whisper paper and the Open ASR Leaderboard score WER, so figures here compare with theirs
and no engine gains or loses by writing "200" for "two hundred". scripts/eval.py,
scripts/bench_transcribe.py and scripts/bench_pipeline.py all import it.
"""

from whisper_normalizer.basic import BasicTextNormalizer
from whisper_normalizer.english import EnglishTextNormalizer

_ENGLISH = EnglishTextNormalizer()
_OTHER = BasicTextNormalizer()


def normalize(text: str, language: str = "en") -> str:
    """`text` as scored (`language`: the recording's, as an ISO 639-1 code), words
    separated by single spaces."""
    out = _ENGLISH(text) if language == "en" else _OTHER(text)
    return " ".join(out.split())
