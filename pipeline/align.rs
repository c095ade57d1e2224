//! Words onto speakers. Each word goes to the speaker whose turns cover most of its time;
//! a segment whose words change speaker is split there, so a whisper segment spanning a
//! turn change becomes two lines with the right names.
//!
//! Whisper's word times are often 0.1-0.2 s off at a turn change - WhisperX's best-known
//! failure is the first word of an answer landing on the questioner. Two guards: a word is
//! judged on its core (its middle 60%), not its edges; and a run of one or two words
//! between two stretches of the same speaker that barely touches its own turn (under 40%
//! overlap) is given back to that speaker.

use crate::transcript::{Segment, SpeakerId, SpeakerTurn, Transcript, Word};

/// Seconds of `[a, b]` each speaker's turns cover.
fn coverage(a: f64, b: f64, turns: &[SpeakerTurn], n: usize) -> Vec<f64> {
    let mut c = vec![0.0; n];
    for t in turns {
        let o = t.end.min(b) - t.start.max(a);
        if o > 0.0 {
            c[t.speaker] += o;
        }
    }
    c
}

fn argmax(v: &[f64]) -> Option<usize> {
    v.iter()
        .enumerate()
        .filter(|(_, &x)| x > 0.0)
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
}

/// Speaker of a word: most coverage of its core, else of the whole word, else the
/// nearest turn.
pub fn word_speaker(w: &Word, turns: &[SpeakerTurn], n: usize) -> Option<SpeakerId> {
    if turns.is_empty() {
        return None;
    }
    let len = (w.end - w.start).max(0.0);
    let (ca, cb) = (w.start + 0.2 * len, w.end - 0.2 * len);
    argmax(&coverage(ca, cb.max(ca + 1e-3), turns, n))
        .or_else(|| argmax(&coverage(w.start, w.end.max(w.start + 1e-3), turns, n)))
        .or_else(|| {
            let mid = (w.start + w.end) / 2.0;
            turns
                .iter()
                .min_by(|a, b| {
                    let da = (a.start - mid).abs().min((a.end - mid).abs());
                    let db = (b.start - mid).abs().min((b.end - mid).abs());
                    da.total_cmp(&db)
                })
                .map(|t| t.speaker)
        })
}

/// Label every word and split segments at speaker changes.
pub fn assign_speakers(t: &mut Transcript) {
    let n = t.turns.iter().map(|x| x.speaker + 1).max().unwrap_or(0);
    if n == 0 {
        return;
    }
    let turns = t.turns.clone();
    let mut out = Vec::with_capacity(t.segments.len());
    for seg in std::mem::take(&mut t.segments) {
        if seg.words.is_empty() {
            let speaker = argmax(&coverage(seg.start, seg.end, &turns, n));
            out.push(Segment { speaker, ..seg });
            continue;
        }
        let mut labels: Vec<Option<SpeakerId>> = seg
            .words
            .iter()
            .map(|w| word_speaker(w, &turns, n))
            .collect();
        smooth_short_runs(&seg.words, &mut labels, &turns, n);
        let mut start = 0;
        for i in 1..=seg.words.len() {
            if i == seg.words.len() || labels[i] != labels[start] {
                let mut words: Vec<Word> = seg.words[start..i].to_vec();
                words.iter_mut().for_each(|w| w.speaker = labels[start]);
                let text = Segment::text_of(&words);
                let whole = start == 0 && i == seg.words.len();
                out.push(Segment {
                    start: if whole { seg.start } else { words[0].start },
                    end: if whole {
                        seg.end
                    } else {
                        words[words.len() - 1].end
                    },
                    text: if whole { seg.text.clone() } else { text },
                    words,
                    speaker: labels[start],
                    avg_logprob: seg.avg_logprob,
                    no_speech_prob: seg.no_speech_prob,
                });
                start = i;
            }
        }
    }
    t.segments = out;
}

/// Give 1-2 word runs back to the speaker on both sides when they barely touch their own
/// turn (whisper's times drifting across a boundary).
fn smooth_short_runs(
    words: &[Word],
    labels: &mut [Option<SpeakerId>],
    turns: &[SpeakerTurn],
    n: usize,
) {
    let mut i = 0;
    while i < labels.len() {
        let mut j = i;
        while j < labels.len() && labels[j] == labels[i] {
            j += 1;
        }
        if i > 0 && j < labels.len() && j - i <= 2 && labels[i - 1] == labels[j] {
            let other = labels[j];
            let own = labels[i];
            let (a, b) = (words[i].start, words[j - 1].end.max(words[i].start + 1e-3));
            let cov = coverage(a, b, turns, n);
            let own_frac = own.map_or(0.0, |s| cov[s]) / (b - a);
            if own_frac < 0.4 {
                labels[i..j].iter_mut().for_each(|l| *l = other);
            }
        }
        i = j;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(w: &str, start: f64, end: f64) -> Word {
        Word {
            word: w.into(),
            start,
            end,
            probability: 1.0,
            speaker: None,
        }
    }

    fn turn(start: f64, end: f64, speaker: usize) -> SpeakerTurn {
        SpeakerTurn {
            start,
            end,
            speaker,
        }
    }

    fn transcript(words: Vec<Word>, turns: Vec<SpeakerTurn>) -> Transcript {
        Transcript {
            segments: vec![Segment {
                start: words[0].start,
                end: words[words.len() - 1].end,
                text: words
                    .iter()
                    .map(|w| w.word.clone())
                    .collect::<Vec<_>>()
                    .join(" "),
                words,
                speaker: None,
                avg_logprob: 0.0,
                no_speech_prob: 0.0,
            }],
            turns,
            ..Default::default()
        }
    }

    #[test]
    fn a_segment_spanning_a_turn_change_is_split_there() {
        let mut t = transcript(
            vec![
                word("How", 0.0, 0.3),
                word("are", 0.3, 0.5),
                word("you?", 0.5, 0.9),
                word("Fine,", 1.2, 1.6),
                word("thanks.", 1.6, 2.0),
            ],
            vec![turn(0.0, 1.0, 0), turn(1.1, 2.1, 1)],
        );
        assign_speakers(&mut t);
        assert_eq!(t.segments.len(), 2);
        assert_eq!(
            (t.segments[0].text.as_str(), t.segments[0].speaker),
            ("How are you?", Some(0))
        );
        assert_eq!(
            (t.segments[1].text.as_str(), t.segments[1].speaker),
            ("Fine, thanks.", Some(1))
        );
        assert_eq!(t.segments[1].start, 1.2);
        assert!(t.segments[1].words.iter().all(|w| w.speaker == Some(1)));
    }

    #[test]
    fn a_word_whose_edge_crosses_the_boundary_stays_with_its_core() {
        // "Yes" 0.85-1.5: its edge overlaps A's turn (ends 1.0) but its core is B's.
        let mut t = transcript(
            vec![word("Right.", 0.2, 0.8), word("Yes", 0.85, 1.5)],
            vec![turn(0.0, 1.0, 0), turn(1.0, 2.0, 1)],
        );
        assign_speakers(&mut t);
        assert_eq!(t.segments.last().unwrap().words[0].speaker, Some(1));
    }

    #[test]
    fn a_drifted_word_inside_a_turn_returns_to_its_speaker() {
        // "the" is timed 2.95-3.05 where B briefly starts; both neighbours are A's.
        let mut t = transcript(
            vec![
                word("over", 2.5, 2.9),
                word("the", 2.95, 3.10),
                word("hill", 3.3, 3.7),
            ],
            vec![turn(0.0, 3.0, 0), turn(3.02, 3.07, 1), turn(3.07, 4.0, 0)],
        );
        assign_speakers(&mut t);
        assert_eq!(t.segments.len(), 1, "{:?}", t.segments);
        assert_eq!(t.segments[0].speaker, Some(0));
    }

    #[test]
    fn words_in_silence_go_to_the_nearest_turn() {
        let turns = [turn(0.0, 1.0, 0), turn(5.0, 6.0, 1)];
        assert_eq!(word_speaker(&word("um", 4.0, 4.2), &turns, 2), Some(1));
        assert_eq!(word_speaker(&word("um", 4.0, 4.2), &[], 0), None);
    }
}
