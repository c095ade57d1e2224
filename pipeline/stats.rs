//! Speaking-time statistics: who dominated the conversation. Pure functions of the
//! speaker turns (speech only, may overlap) and the labelled words.
//!
//! Definitions (the README repeats them):
//! - **talk time** of a speaker: the union of their turns, in seconds.
//! - **share**: talk time / total speech, where total speech is the union of everyone's
//!   turns (so shares add up to more than 100% only by the overlap).
//! - **turn**: a stretch in which one speaker holds the floor. It starts when they start
//!   speaking and ends when someone else starts speaking while they are silent, or when
//!   they are silent for more than 2.0 s. Silence up to 2.0 s inside it, and someone else
//!   talking over them (an overlap), do not end it.
//! - **mean / longest turn**: over that speaker's turns, from the turn's first speech to
//!   its last; the longest is the longest monologue.
//! - **words** assigned to the speaker; **words per minute** = words / talk minutes.
//! - **interruption**: A interrupts B when A starts speaking while B is speaking and B
//!   goes on speaking for at least 0.5 s after A's start. Counted once per A start
//!   (made by A, suffered by B). A backchannel ("yeah") over B counts too.
//! - **overlap** of a speaker: time they speak while at least one other person speaks.
//! - totals: duration of the audio, speech, silence (duration - speech), overlap (time
//!   with two or more speakers), number of speakers who spoke, dominant speaker (largest
//!   share) with their lead over the next speaker in share points and as a ratio.

use serde::Serialize;

use crate::transcript::{round_ms, SpeakerTurn, Transcript};

/// Silence longer than this ends a turn.
pub const TURN_GAP_S: f64 = 2.0;
/// An interrupted speaker must keep talking this long after the interrupter starts.
pub const INTERRUPTION_MIN_S: f64 = 0.5;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpeakerStats {
    pub name: String,
    pub talk_s: f64,
    pub share: f64,
    pub turns: usize,
    pub mean_turn_s: f64,
    pub longest_turn_s: f64,
    pub longest_turn_start: f64,
    pub words: usize,
    pub words_per_minute: f64,
    pub interruptions_made: usize,
    pub interruptions_suffered: usize,
    pub overlap_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dominant {
    pub name: String,
    pub share: f64,
    /// Share points ahead of the next speaker (0.62 - 0.25 = 0.37).
    pub lead: f64,
    /// Talk time relative to the next speaker (None when nobody else spoke).
    pub ratio_to_next: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConversationStats {
    pub duration_s: f64,
    pub speech_s: f64,
    pub silence_s: f64,
    pub overlap_s: f64,
    pub num_speakers: usize,
    pub dominant: Option<Dominant>,
    pub speakers: Vec<SpeakerStats>,
}

/// Sorted, merged union of intervals.
fn union(mut v: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (a, b) in v {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

fn total(v: &[(f64, f64)]) -> f64 {
    v.iter().map(|(a, b)| b - a).sum()
}

fn intersect(a: &[(f64, f64)], b: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for &(a0, a1) in a {
        for &(b0, b1) in b {
            let (s, e) = (a0.max(b0), a1.min(b1));
            if e > s {
                out.push((s, e));
            }
        }
    }
    union(out)
}

/// Time covered by two or more of the speakers' unions.
fn multi_coverage(per: &[Vec<(f64, f64)>]) -> Vec<(f64, f64)> {
    let mut pieces = Vec::new();
    for i in 0..per.len() {
        for j in i + 1..per.len() {
            pieces.extend(intersect(&per[i], &per[j]));
        }
    }
    union(pieces)
}

/// The turns (floor-holding stretches) of speaker `s`, as (start, end).
fn floor_turns(s: usize, per: &[Vec<(f64, f64)>]) -> Vec<(f64, f64)> {
    let mine = &per[s];
    let others: Vec<(f64, f64)> = union(
        per.iter()
            .enumerate()
            .filter(|(i, _)| *i != s)
            .flat_map(|(_, v)| v.iter().copied())
            .collect(),
    );
    let mut out: Vec<(f64, f64)> = Vec::new();
    for &(a, b) in mine {
        if let Some(last) = out.last_mut() {
            let gap = (last.1, a);
            // Someone else starting inside the gap (while we are silent) ends the turn.
            let other_took_floor = others.iter().any(|&(o0, _)| o0 >= gap.0 && o0 < gap.1);
            if gap.1 - gap.0 <= TURN_GAP_S && !other_took_floor {
                last.1 = b;
                continue;
            }
        }
        out.push((a, b));
    }
    out
}

pub fn compute_stats(t: &Transcript) -> ConversationStats {
    let n = t
        .speakers
        .len()
        .max(t.turns.iter().map(|x| x.speaker + 1).max().unwrap_or(0));
    let per: Vec<Vec<(f64, f64)>> = (0..n)
        .map(|s| {
            union(
                t.turns
                    .iter()
                    .filter(|x| x.speaker == s && x.end > x.start)
                    .map(|x| (x.start, x.end))
                    .collect(),
            )
        })
        .collect();
    let speech = union(per.iter().flatten().copied().collect());
    let speech_s = total(&speech);
    let overlap = multi_coverage(&per);
    let mut words = vec![0usize; n];
    for w in t.segments.iter().flat_map(|s| &s.words) {
        if let Some(s) = w.speaker.filter(|&s| s < n) {
            words[s] += 1;
        }
    }
    let (made, suffered) = interruptions(&t.turns, n);
    let mut speakers: Vec<SpeakerStats> = (0..n)
        .map(|s| {
            let talk_s = total(&per[s]);
            let turns = floor_turns(s, &per);
            let longest = turns
                .iter()
                .copied()
                .max_by(|a, b| (a.1 - a.0).total_cmp(&(b.1 - b.0)))
                .unwrap_or((0.0, 0.0));
            let others: Vec<Vec<(f64, f64)>> = vec![
                per[s].clone(),
                union(
                    per.iter()
                        .enumerate()
                        .filter(|(i, _)| *i != s)
                        .flat_map(|(_, v)| v.iter().copied())
                        .collect(),
                ),
            ];
            SpeakerStats {
                name: t.speaker_name(s),
                talk_s,
                share: if speech_s > 0.0 {
                    talk_s / speech_s
                } else {
                    0.0
                },
                turns: turns.len(),
                mean_turn_s: if turns.is_empty() {
                    0.0
                } else {
                    total(&turns) / turns.len() as f64
                },
                longest_turn_s: longest.1 - longest.0,
                longest_turn_start: longest.0,
                words: words[s],
                words_per_minute: if talk_s > 0.0 {
                    words[s] as f64 / (talk_s / 60.0)
                } else {
                    0.0
                },
                interruptions_made: made[s],
                interruptions_suffered: suffered[s],
                overlap_s: total(&intersect(&others[0], &others[1])),
            }
        })
        .collect();
    let dominant = {
        let mut order: Vec<&SpeakerStats> = speakers.iter().filter(|s| s.talk_s > 0.0).collect();
        order.sort_by(|a, b| b.talk_s.total_cmp(&a.talk_s));
        order.first().map(|top| Dominant {
            name: top.name.clone(),
            share: top.share,
            lead: top.share - order.get(1).map_or(0.0, |s| s.share),
            ratio_to_next: order.get(1).map(|s| top.talk_s / s.talk_s),
        })
    };
    // Rounded only now, after shares and the dominant speaker are computed exactly.
    speakers.iter_mut().for_each(|s| {
        s.talk_s = round_ms(s.talk_s);
        s.overlap_s = round_ms(s.overlap_s);
        s.mean_turn_s = round_ms(s.mean_turn_s);
        s.longest_turn_s = round_ms(s.longest_turn_s);
        s.words_per_minute = round_ms(s.words_per_minute);
    });
    ConversationStats {
        duration_s: round_ms(t.duration),
        speech_s: round_ms(speech_s),
        silence_s: round_ms((t.duration - speech_s).max(0.0)),
        overlap_s: round_ms(total(&overlap)),
        num_speakers: speakers.iter().filter(|s| s.talk_s > 0.0).count(),
        dominant,
        speakers,
    }
}

/// (made, suffered) per speaker.
fn interruptions(turns: &[SpeakerTurn], n: usize) -> (Vec<usize>, Vec<usize>) {
    let mut made = vec![0; n];
    let mut suffered = vec![0; n];
    for a in turns {
        // Speech of A starting while another speaker's speech is under way.
        for b in turns {
            if b.speaker != a.speaker
                && b.start < a.start
                && a.start < b.end
                && b.end - a.start >= INTERRUPTION_MIN_S
            {
                // A continuation of A's own speech (A was already talking) is no new start.
                let already_talking = turns
                    .iter()
                    .any(|c| c.speaker == a.speaker && c.start < a.start && c.end >= a.start);
                if !already_talking {
                    made[a.speaker] += 1;
                    suffered[b.speaker] += 1;
                }
                break;
            }
        }
    }
    (made, suffered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(start: f64, end: f64, speaker: usize) -> SpeakerTurn {
        SpeakerTurn {
            start,
            end,
            speaker,
        }
    }

    fn stats(turns: Vec<SpeakerTurn>, names: &[&str], duration: f64) -> ConversationStats {
        compute_stats(&Transcript {
            duration,
            turns,
            speakers: names.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        })
    }

    #[test]
    fn shares_overlap_and_dominance() {
        // A 0-6, B 5-8 (1 s overlap), silence 8-10.
        let s = stats(
            vec![turn(0.0, 6.0, 0), turn(5.0, 8.0, 1)],
            &["A", "B"],
            10.0,
        );
        assert!((s.speech_s - 8.0).abs() < 1e-9);
        assert!((s.silence_s - 2.0).abs() < 1e-9);
        assert!((s.overlap_s - 1.0).abs() < 1e-9);
        assert!((s.speakers[0].share - 0.75).abs() < 1e-9);
        assert!((s.speakers[1].share - 0.375).abs() < 1e-9);
        assert!((s.speakers[0].overlap_s - 1.0).abs() < 1e-9);
        let d = s.dominant.unwrap();
        assert_eq!(d.name, "A");
        assert!((d.lead - 0.375).abs() < 1e-9);
        assert!((d.ratio_to_next.unwrap() - 2.0).abs() < 1e-9);
    }

    #[test]
    fn interruption_counts_only_when_the_other_keeps_talking() {
        // B starts at 5 while A talks until 6: A keeps 1 s -> interruption.
        let s = stats(
            vec![turn(0.0, 6.0, 0), turn(5.0, 8.0, 1)],
            &["A", "B"],
            10.0,
        );
        assert_eq!(
            (
                s.speakers[1].interruptions_made,
                s.speakers[0].interruptions_suffered
            ),
            (1, 1)
        );
        // B starts at 5.8 while A stops at 6.0: only 0.2 s more -> a clean handover.
        let s = stats(
            vec![turn(0.0, 6.0, 0), turn(5.8, 8.0, 1)],
            &["A", "B"],
            10.0,
        );
        assert_eq!(s.speakers[1].interruptions_made, 0);
        assert_eq!(s.speakers[0].interruptions_suffered, 0);
    }

    #[test]
    fn silence_inside_a_turn_up_to_two_seconds_does_not_end_it() {
        let s = stats(vec![turn(0.0, 3.0, 0), turn(4.5, 6.0, 0)], &["A"], 6.0);
        assert_eq!(s.speakers[0].turns, 1);
        assert!((s.speakers[0].longest_turn_s - 6.0).abs() < 1e-9);
        let s = stats(vec![turn(0.0, 3.0, 0), turn(5.5, 6.0, 0)], &["A"], 6.0);
        assert_eq!(s.speakers[0].turns, 2);
        assert!((s.speakers[0].longest_turn_s - 3.0).abs() < 1e-9);
    }

    #[test]
    fn another_speaker_in_the_pause_ends_the_turn() {
        let s = stats(
            vec![turn(0.0, 3.0, 0), turn(3.2, 3.8, 1), turn(4.0, 6.0, 0)],
            &["A", "B"],
            6.0,
        );
        assert_eq!(s.speakers[0].turns, 2);
        assert_eq!(s.speakers[1].turns, 1);
    }

    #[test]
    fn words_per_minute_and_silent_speakers() {
        let mut t = Transcript {
            duration: 60.0,
            turns: vec![turn(0.0, 30.0, 0)],
            speakers: vec!["A".into(), "B".into()],
            ..Default::default()
        };
        t.segments.push(crate::transcript::Segment {
            start: 0.0,
            end: 30.0,
            text: String::new(),
            words: (0..50)
                .map(|i| crate::transcript::Word {
                    word: "w".into(),
                    start: i as f64 * 0.5,
                    end: i as f64 * 0.5 + 0.4,
                    probability: 1.0,
                    speaker: Some(0),
                })
                .collect(),
            speaker: Some(0),
            avg_logprob: 0.0,
            no_speech_prob: 0.0,
        });
        let s = compute_stats(&t);
        assert_eq!(s.speakers[0].words, 50);
        assert!((s.speakers[0].words_per_minute - 100.0).abs() < 1e-9);
        assert_eq!(s.speakers[1].talk_s, 0.0);
        assert_eq!(s.num_speakers, 1);
        assert_eq!(s.dominant.unwrap().ratio_to_next, None);
    }

    #[test]
    fn empty_conversation() {
        let s = stats(vec![], &[], 5.0);
        assert_eq!(s.speech_s, 0.0);
        assert_eq!(s.silence_s, 5.0);
        assert!(s.dominant.is_none());
    }
}
