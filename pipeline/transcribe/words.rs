//! Whisper tokens -> words with times. Pure: tested on hand-made token lists.
//!
//! A token whose text starts with a space begins a new word; other tokens (word pieces,
//! punctuation) extend the current one. Bytes are joined before UTF-8 decoding because
//! whisper splits multi-byte characters across tokens.

use crate::transcript::Word;

/// One text token of a decoded segment, times in seconds from the recording start.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedToken {
    pub bytes: Vec<u8>,
    pub start: f64,
    pub end: f64,
    pub probability: f32,
}

pub fn tokens_to_words(tokens: &[TimedToken]) -> Vec<Word> {
    struct Acc {
        bytes: Vec<u8>,
        start: f64,
        end: f64,
        prob_sum: f32,
        n: usize,
    }
    let mut words = Vec::new();
    let mut acc: Option<Acc> = None;
    let flush = |acc: Acc, words: &mut Vec<Word>| {
        let text = String::from_utf8_lossy(&acc.bytes).trim().to_string();
        if !text.is_empty() {
            words.push(Word {
                word: text,
                start: acc.start,
                end: acc.end.max(acc.start),
                probability: acc.prob_sum / acc.n as f32,
                speaker: None,
            });
        }
    };
    for t in tokens {
        let starts_word = t.bytes.first() == Some(&b' ');
        match acc.as_mut() {
            Some(a) if !starts_word => {
                a.bytes.extend_from_slice(&t.bytes);
                a.end = a.end.max(t.end);
                a.prob_sum += t.probability;
                a.n += 1;
            }
            _ => {
                if let Some(done) = acc.take() {
                    flush(done, &mut words);
                }
                acc = Some(Acc {
                    bytes: t.bytes.clone(),
                    start: t.start,
                    end: t.end,
                    prob_sum: t.probability,
                    n: 1,
                });
            }
        }
    }
    if let Some(done) = acc {
        flush(done, &mut words);
    }
    // Whisper occasionally emits a word whose start precedes the previous word's end;
    // keep times monotonic so alignment and subtitles never go backwards.
    for i in 1..words.len() {
        if words[i].start < words[i - 1].end {
            let mid = words[i].start.max(words[i - 1].start);
            words[i - 1].end = mid;
            words[i].start = mid;
            words[i].end = words[i].end.max(mid);
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(s: &[u8], start: f64, end: f64, p: f32) -> TimedToken {
        TimedToken {
            bytes: s.to_vec(),
            start,
            end,
            probability: p,
        }
    }

    #[test]
    fn pieces_and_punctuation_join_the_word_before() {
        let words = tokens_to_words(&[
            tok(b" And", 0.0, 0.2, 0.9),
            tok(b" so", 0.2, 0.4, 0.8),
            tok(b" my", 0.4, 0.5, 1.0),
            tok(b" fell", 0.5, 0.7, 0.6),
            tok(b"ow", 0.7, 0.8, 0.4),
            tok(b",", 0.8, 0.8, 1.0),
        ]);
        let texts: Vec<_> = words.iter().map(|w| w.word.as_str()).collect();
        assert_eq!(texts, ["And", "so", "my", "fellow,"]);
        assert_eq!(words[3].start, 0.5);
        assert_eq!(words[3].end, 0.8);
        assert!((words[3].probability - 2.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn multibyte_characters_split_across_tokens_are_rejoined() {
        // "é" is 0xC3 0xA9.
        let words = tokens_to_words(&[
            tok(b" caf", 0.0, 0.3, 1.0),
            tok(&[0xC3], 0.3, 0.3, 1.0),
            tok(&[0xA9], 0.3, 0.4, 1.0),
        ]);
        assert_eq!(words[0].word, "café");
    }

    #[test]
    fn overlapping_word_times_are_made_monotonic() {
        let words = tokens_to_words(&[tok(b" one", 1.0, 2.0, 1.0), tok(b" two", 1.5, 2.5, 1.0)]);
        assert!(words[0].end <= words[1].start);
        assert!(words[1].start >= words[0].start);
    }

    #[test]
    fn first_token_without_space_still_starts_a_word() {
        let words = tokens_to_words(&[tok(b"Hello", 0.0, 0.5, 1.0), tok(b" there", 0.5, 1.0, 1.0)]);
        assert_eq!(words.len(), 2);
        assert_eq!(words[0].word, "Hello");
    }
}
