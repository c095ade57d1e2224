//! Guards against whisper's hallucinations: text invented over silence or music, decoding
//! loops, and speech jumped over. Uses the quality scores whisper gives each segment, as
//! openai-whisper and faster-whisper do, plus the VAD's verdict on where speech actually was.

use std::io::Write;

use flate2::write::ZlibEncoder;
use flate2::Compression;

/// whisper's own thresholds (openai-whisper `transcribe()` defaults).
pub const NO_SPEECH_THRESHOLD: f32 = 0.6;
pub const LOGPROB_THRESHOLD: f32 = -1.0;
pub const COMPRESSION_RATIO_THRESHOLD: f64 = 2.4;

/// Bytes of text per byte of its zlib compression: high when text repeats itself.
pub fn compression_ratio(text: &str) -> f64 {
    if text.is_empty() {
        return 0.0;
    }
    let mut enc = ZlibEncoder::new(Vec::new(), Compression::default());
    enc.write_all(text.as_bytes())
        .expect("writing to a Vec cannot fail");
    let compressed = enc.finish().expect("writing to a Vec cannot fail");
    text.len() as f64 / compressed.len() as f64
}

/// Why a segment was dropped, for `--verbose` diagnostics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// whisper thinks there was no speech and is unsure of the text.
    NoSpeech,
    /// The text loops ("thank you thank you thank you ...").
    Repetitive,
    /// Almost none of the segment lies where the VAD heard speech.
    OutsideSpeech,
    /// Only non-speech markers such as "[Music]" or "♪".
    NonSpeechMarker,
}

pub struct SegmentScores<'a> {
    pub text: &'a str,
    pub avg_logprob: f32,
    pub no_speech_prob: f32,
    /// Fraction of the segment's time inside VAD speech regions, 0..1.
    pub speech_fraction: f64,
}

pub fn judge(s: &SegmentScores) -> Option<Rejection> {
    if is_non_speech_marker(s.text) {
        return Some(Rejection::NonSpeechMarker);
    }
    if s.no_speech_prob > NO_SPEECH_THRESHOLD && s.avg_logprob < LOGPROB_THRESHOLD {
        return Some(Rejection::NoSpeech);
    }
    if s.text.len() > 40 && compression_ratio(s.text) > COMPRESSION_RATIO_THRESHOLD {
        return Some(Rejection::Repetitive);
    }
    if s.speech_fraction < 0.1 {
        return Some(Rejection::OutsideSpeech);
    }
    None
}

/// Text made only of bracketed annotations and music symbols.
pub fn is_non_speech_marker(text: &str) -> bool {
    let mut depth = 0i32;
    let mut spoken = false;
    for c in text.chars() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth -= 1,
            '♪' | '♫' | '♬' | '♩' => {}
            c if depth <= 0 && c.is_alphanumeric() => spoken = true,
            _ => {}
        }
    }
    !spoken
}

/// Faster than anyone talks: sustained speech runs at 2-4 words a second, and even a
/// quick burst stays under 6. Text denser than this over its audio was repeated.
pub const MAX_WORDS_PER_SECOND: f64 = 6.5;
/// A phrase of this many words said twice in a row is a decoding loop, not speech
/// ("I don't know, I don't know" is three words).
const MIN_LOOPED_PHRASE_WORDS: usize = 4;

/// A stricter loop check than the compression ratio, for short audio where a loop of
/// two or three repeats does not compress enough to be caught: more words than
/// `speech_seconds` could hold, or a phrase of 4+ words repeated back to back.
pub fn looks_looped(text: &str, speech_seconds: f64) -> bool {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect()
        })
        .filter(|w: &String| !w.is_empty())
        .collect();
    if words.len() as f64 > MAX_WORDS_PER_SECOND * speech_seconds.max(1.0) {
        return true;
    }
    (MIN_LOOPED_PHRASE_WORDS..=words.len() / 2)
        .any(|n| (0..=words.len() - 2 * n).any(|i| words[i..i + n] == words[i + n..i + 2 * n]))
}

/// whisper.cpp's loop test on a decoded window (`entropy_thold`, its default and
/// openai-whisper's): the tokens' entropy over the last `ENTROPY_WINDOW_TOKENS` up to the
/// last timestamp. Below it, whisper.cpp throws the window's text away and decodes it
/// again at the next temperature.
pub const ENTROPY_THRESHOLD: f32 = 2.4;
const ENTROPY_WINDOW_TOKENS: usize = 32;

/// Whether whisper.cpp would already reject the tokens decoded so far as a loop, were the
/// text to end here: `ids` is the sequence so far (text and timestamp tokens), and every
/// id above `timestamp_base` (whisper's `<|0.00|>`) is a timestamp. The same measure as
/// whisper.cpp's `whisper_sequence_score`: a sequence is judged on its tokens up to and
/// including its last timestamp, and only when there are more than 32 of them.
///
/// Why: once a window loops ("And the macham. And the macham. ..."), whisper.cpp goes on
/// until the timestamps run past the audio, then rejects it all. Ended as soon as this
/// holds, the fallback comes without the wasted steps (rapid.m4a with base: one window
/// took 375 decoder steps, two of its three attempts such loops).
pub fn decoding_looped(ids: &[i32], timestamp_base: i32) -> bool {
    let Some(last_timestamp) = ids.iter().rposition(|&id| id > timestamp_base) else {
        return false;
    };
    let judged = &ids[..=last_timestamp];
    if judged.len() <= ENTROPY_WINDOW_TOKENS {
        return false;
    }
    token_entropy(&judged[judged.len() - ENTROPY_WINDOW_TOKENS..]) < ENTROPY_THRESHOLD as f64
}

/// Whether a decoded window fails the tests that send it to the next temperature:
/// whisper.cpp's (the entropy of its last tokens, [`decoding_looped`]), faster-whisper's
/// (the text's compression ratio over `COMPRESSION_RATIO_THRESHOLD`), and both engines'
/// average token log-probability under `LOGPROB_THRESHOLD` where whisper does not take
/// the window for silence; and a phrase said twice in a row ([`looks_looped`], over the
/// window's `speech_seconds`), the loop a beam search falls into before the others see it
/// (base on the panel: "The shops are empty now." three times where greedy decoding heard
/// the sentence). `ids` are every token of the window (text and timestamps) and
/// `logprob_sum` their log-probabilities' sum. A window with no tokens has nothing to
/// judge. Used where spacescribe runs the fallback itself (after a beam search).
pub fn window_needs_fallback(
    ids: &[i32],
    logprob_sum: f32,
    no_speech_prob: f32,
    text: &str,
    speech_seconds: f64,
    timestamp_base: i32,
) -> bool {
    if ids.is_empty() {
        return false;
    }
    let avg_logprob = logprob_sum / ids.len() as f32;
    decoding_looped(ids, timestamp_base)
        || compression_ratio(text) > COMPRESSION_RATIO_THRESHOLD
        || looks_looped(text, speech_seconds)
        || (avg_logprob < LOGPROB_THRESHOLD && no_speech_prob < NO_SPEECH_THRESHOLD)
}

/// Entropy (natural log) of the token distribution in `ids`.
fn token_entropy(ids: &[i32]) -> f64 {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    let n = ids.len() as f64;
    sorted
        .chunk_by(|a, b| a == b)
        .map(|run| {
            let p = run.len() as f64 / n;
            -p * p.ln()
        })
        .sum()
}

/// Speech slower than this (words a second of VAD speech under a segment) is not speech
/// written down but speech skipped: whisper sometimes jumps over a sentence or three and
/// spreads the next few words over the whole stretch. On the 66-minute `long` sample base
/// wrote "The archives are updated twice every day." over 12.7 s (0.55 words a second)
/// that also held the 26-word sentence before it, and tiny.en 9 words over 28.4 s; every
/// other segment of 3 s or more on the samples runs at 1.0 words a second or faster
/// (the shipped samples at 1.7 or faster).
pub const SKIPPED_SPEECH_WORDS_PER_SECOND: f64 = 0.8;
/// ...over at least this much speech: a short segment can hold one drawn-out word.
pub const SKIPPED_SPEECH_MIN_S: f64 = 4.0;

/// Whether a segment of `words` words over `speech_s` seconds of VAD speech reads as
/// whisper having skipped speech there (see `SKIPPED_SPEECH_WORDS_PER_SECOND`).
pub fn skipped_speech(words: usize, speech_s: f64) -> bool {
    speech_s >= SKIPPED_SPEECH_MIN_S && (words as f64) < SKIPPED_SPEECH_WORDS_PER_SECOND * speech_s
}

/// Fraction of `[start, end]` covered by `regions` (sorted, non-overlapping).
pub fn covered_fraction(start: f64, end: f64, regions: &[(f64, f64)]) -> f64 {
    let len = end - start;
    if len <= 0.0 {
        return if regions.iter().any(|&(a, b)| a <= start && start <= b) {
            1.0
        } else {
            0.0
        };
    }
    let covered: f64 = regions
        .iter()
        .map(|&(a, b)| (b.min(end) - a.max(start)).max(0.0))
        .sum();
    (covered / len).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_words_over_many_seconds_of_speech_is_speech_skipped() {
        // The long sample's cases: 7 words over 12.7 s, 9 over 28.4 s.
        assert!(skipped_speech(7, 12.7));
        assert!(skipped_speech(9, 28.4));
        // Slow but real: the slowest segments of 3 s or more on the samples.
        assert!(!skipped_speech(5, 5.0));
        assert!(!skipped_speech(14, 8.1));
        // One drawn-out word, or a short pause-filled line, is not enough to judge.
        assert!(!skipped_speech(1, 3.9));
        assert!(!skipped_speech(0, 2.0));
    }

    fn scores(text: &str, lp: f32, ns: f32, frac: f64) -> SegmentScores<'_> {
        SegmentScores {
            text,
            avg_logprob: lp,
            no_speech_prob: ns,
            speech_fraction: frac,
        }
    }

    #[test]
    fn confident_speech_is_kept() {
        assert_eq!(
            judge(&scores("And so my fellow Americans", -0.3, 0.01, 1.0)),
            None
        );
        // High no-speech probability alone is not enough (whisper's rule needs both).
        assert_eq!(judge(&scores("Yes.", -0.2, 0.9, 1.0)), None);
    }

    #[test]
    fn unsure_text_over_no_speech_is_dropped() {
        assert_eq!(
            judge(&scores("Thank you for watching.", -1.4, 0.8, 1.0)),
            Some(Rejection::NoSpeech)
        );
    }

    #[test]
    fn loops_are_dropped() {
        let looped = "I'm going to go. ".repeat(12);
        assert!(compression_ratio(&looped) > 2.4);
        assert_eq!(
            judge(&scores(&looped, -0.2, 0.0, 1.0)),
            Some(Rejection::Repetitive)
        );
        assert!(
            compression_ratio(
                "Ask not what your country can do for you, ask what you can do for your country."
            ) < 2.4
        );
    }

    #[test]
    fn short_loops_are_caught_by_rate_and_back_to_back_phrases() {
        let said = "Let me bring in a caller. We have Ken on the line.";
        assert!(!looks_looped(said, 2.7));
        // Two and a half times over 2.7 s: too dense, and a phrase repeats.
        let looped = format!("{said} {said} Let me bring in");
        assert!(compression_ratio(&looped) < COMPRESSION_RATIO_THRESHOLD);
        assert!(looks_looped(&looped, 2.7));
        assert!(looks_looped(&format!("{said} {said}"), 10.0));
        // Short repeats people do say are kept.
        assert!(!looks_looped(
            "No, no, no. I don't know, I don't know.",
            3.0
        ));
        assert!(!looks_looped("Yeah.", 0.3));
    }

    #[test]
    fn markers_and_text_outside_speech_are_dropped() {
        assert!(is_non_speech_marker("[Music]"));
        assert!(is_non_speech_marker(" ♪ ♪ "));
        assert!(is_non_speech_marker("(upbeat music)"));
        assert!(!is_non_speech_marker("[laughs] That's right"));
        assert_eq!(
            judge(&scores("Hello", -0.2, 0.0, 0.05)),
            Some(Rejection::OutsideSpeech)
        );
    }

    #[test]
    fn coverage_counts_overlap_with_regions() {
        let r = [(0.0, 1.0), (2.0, 3.0)];
        assert!((covered_fraction(0.5, 2.5, &r) - 0.5).abs() < 1e-9);
        assert_eq!(covered_fraction(4.0, 5.0, &r), 0.0);
        assert_eq!(covered_fraction(0.5, 0.5, &r), 1.0);
    }

    #[test]
    fn a_looping_window_is_caught_once_its_last_32_tokens_repeat() {
        // <|0.00|>; ids above it are timestamps.
        const TS: i32 = 50_363;
        // Fourteen distinct words, then a five-token phrase with its timestamps, repeated.
        let mut ids: Vec<i32> = vec![TS + 107];
        ids.extend(1..=14);
        ids.push(TS + 315);
        let mut caught_after = None;
        for repeat in 0..10 {
            ids.push(TS + 315 + repeat);
            ids.extend([100, 101, 102, 103, 104]);
            ids.push(TS + 315 + repeat);
            if caught_after.is_none() && decoding_looped(&ids, TS) {
                caught_after = Some(repeat + 1);
            }
        }
        // Three repeats still carry the words before them; five do not.
        let caught_after = caught_after.expect("a loop of ten repeats is caught");
        assert!(
            (4..=5).contains(&caught_after),
            "caught after {caught_after}"
        );
    }

    #[test]
    fn varied_text_and_short_windows_are_not_loops() {
        const TS: i32 = 50_363;
        // 40 distinct words between timestamps: high entropy.
        let mut ids: Vec<i32> = vec![TS + 1];
        for i in 0..4 {
            ids.extend(i * 10..i * 10 + 10);
            ids.push(TS + 100 * (i + 1));
            ids.push(TS + 100 * (i + 1));
        }
        assert!(!decoding_looped(&ids, TS));
        // The same word 20 times: low entropy, but too short for whisper.cpp to judge.
        let mut short = vec![TS + 1];
        short.extend([7; 20]);
        short.push(TS + 40);
        assert!(!decoding_looped(&short, TS));
        // Repeated text after the last timestamp is not judged yet.
        let mut open = vec![TS + 1];
        open.extend(0..10);
        open.push(TS + 50);
        open.extend([7; 40]);
        assert!(!decoding_looped(&open, TS));
        // No timestamp at all.
        assert!(!decoding_looped(&[7; 40], TS));
    }

    #[test]
    fn a_window_falls_back_on_a_loop_repeated_text_or_unsure_tokens() {
        const TS: i32 = 50_363;
        // 40 distinct tokens between timestamps, sure of them (log-probability -0.2 each).
        let mut varied: Vec<i32> = vec![TS + 1];
        varied.extend(0..40);
        varied.push(TS + 900);
        let sure = -0.2 * varied.len() as f32;
        let text = "Two things we found the money for the toilets and the lighting.";
        assert!(!window_needs_fallback(&varied, sure, 0.01, text, 5.0, TS));
        // The same tokens, unsure of them (-1.5 each): fallback, unless whisper takes the
        // window for silence.
        let unsure = -1.5 * varied.len() as f32;
        assert!(window_needs_fallback(&varied, unsure, 0.01, text, 5.0, TS));
        assert!(!window_needs_fallback(&varied, unsure, 0.9, text, 5.0, TS));
        // Text that repeats itself (compression ratio over 2.4), however sure.
        let looped = "And the mageham. ".repeat(14);
        assert!(window_needs_fallback(
            &varied, sure, 0.01, &looped, 17.0, TS
        ));
        // A sentence said three times: too little to compress, but a phrase twice in a row.
        let thrice = "It is quiet. The shops are empty now. ".to_string()
            + &"The shops are empty now. ".repeat(2);
        assert!(compression_ratio(&thrice) <= COMPRESSION_RATIO_THRESHOLD);
        assert!(window_needs_fallback(
            &varied, sure, 0.01, &thrice, 26.0, TS
        ));
        // A token loop (whisper.cpp's entropy test).
        let mut ids = vec![TS + 1];
        for i in 0..10 {
            ids.extend([100, 101, 102]);
            ids.push(TS + 50 * (i + 1));
        }
        assert!(window_needs_fallback(
            &ids,
            -0.1 * ids.len() as f32,
            0.01,
            "x",
            5.0,
            TS
        ));
        // Nothing decoded: nothing to judge.
        assert!(!window_needs_fallback(&[], 0.0, 0.01, "", 5.0, TS));
    }
}
