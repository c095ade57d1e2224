//! Speaking-time statistics: who dominated the conversation. Pure functions of the
//! speaker turns (speech only, may overlap) and the labelled words.
//!
//! Definitions (the README repeats them):
//! - **talk time** of a speaker: the union of their turns, in seconds.
//! - **share**: talk time / total speech, where total speech is the union of everyone's
//!   turns (so shares add up to more than 100% only by the overlap).
//! - **stretch**: one piece of the union of a speaker's speech (speech with no silence of
//!   theirs inside).
//! - **backchannel**: a stretch shorter than 1.0 s that starts and ends inside one stretch
//!   of another speaker ("yeah", "right" while someone holds the floor). It is neither a
//!   turn nor an interruption; it counts in talk time.
//! - **turn**: built from the other stretches: a stretch in which one speaker holds the
//!   floor. It starts when they start speaking and ends when someone else starts a
//!   (non-backchannel) stretch while they are silent, or when they are silent for more
//!   than 2.0 s. Silence up to 2.0 s inside it, and someone else talking over them, do not
//!   end it.
//! - **mean / longest turn**: over that speaker's turns, from the turn's first speech to
//!   its last; the longest is the longest monologue.
//! - **words** assigned to the speaker; **words per minute** = words / talk minutes.
//! - **interruption**: A interrupts B when a (non-backchannel) stretch of A starts while a
//!   (non-backchannel) stretch of B is under way and B goes on for at least 0.5 s after
//!   A's start. Counted once per A stretch (made by A, suffered by B).
//! - **overlap** of a speaker: time they speak while at least one other person speaks.
//! - totals: duration of the audio, speech, silence (duration - speech), overlap (time
//!   with two or more speakers), number of speakers who spoke, dominant speaker (largest
//!   share) with their lead over the next speaker in share points and as a ratio.

use serde::Serialize;

use crate::transcript::{round_ms, Transcript};

/// Silence longer than this ends a turn.
pub const TURN_GAP_S: f64 = 2.0;
/// An interrupted speaker must keep talking this long after the interrupter starts.
pub const INTERRUPTION_MIN_S: f64 = 0.5;
/// A stretch inside another speaker's stretch and shorter than this is a backchannel.
pub const BACKCHANNEL_MAX_S: f64 = 1.0;

/// The definitions in one sentence, for the reports' footers.
pub const DEFINITIONS: &str = "a turn ends when someone else speaks or after more than 2 s of silence; a backchannel is speech under 1 s inside someone else's speech (neither a turn nor an interruption); an interruption is starting to speak while someone talks who then goes on for at least 0.5 s.";

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
    pub backchannels: usize,
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

/// Everyone's speech but speaker `s`'s, as one union.
fn others_union(s: usize, per: &[Vec<(f64, f64)>]) -> Vec<(f64, f64)> {
    union(
        per.iter()
            .enumerate()
            .filter(|(i, _)| *i != s)
            .flat_map(|(_, v)| v.iter().copied())
            .collect(),
    )
}

/// Time intervals (start, end) in seconds.
type Intervals = Vec<(f64, f64)>;

/// Each speaker's stretches split into (floor stretches, backchannels).
fn split_backchannels(per: &[Intervals]) -> Vec<(Intervals, Intervals)> {
    (0..per.len())
        .map(|s| {
            per[s].iter().partition(|&&(a, b)| {
                let inside_another = per
                    .iter()
                    .enumerate()
                    .any(|(o, v)| o != s && v.iter().any(|&(o0, o1)| o0 < a && b < o1));
                !(b - a < BACKCHANNEL_MAX_S && inside_another)
            })
        })
        .collect()
}

/// The turns of speaker `s`, as (start, end), from everyone's floor stretches.
fn floor_turns(s: usize, floor: &[Vec<(f64, f64)>]) -> Vec<(f64, f64)> {
    let mine = &floor[s];
    let others = others_union(s, floor);
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
    let (floor, backchannels): (Vec<_>, Vec<_>) = split_backchannels(&per).into_iter().unzip();
    let (made, suffered) = interruptions(&floor);
    let mut speakers: Vec<SpeakerStats> = (0..n)
        .map(|s| {
            let talk_s = total(&per[s]);
            let turns = floor_turns(s, &floor);
            let longest = turns
                .iter()
                .copied()
                .max_by(|a, b| (a.1 - a.0).total_cmp(&(b.1 - b.0)))
                .unwrap_or((0.0, 0.0));
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
                backchannels: backchannels[s].len(),
                overlap_s: total(&intersect(&per[s], &others_union(s, &per))),
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

/// (made, suffered) per speaker, from the floor stretches (backchannels left out).
fn interruptions(floor: &[Vec<(f64, f64)>]) -> (Vec<usize>, Vec<usize>) {
    let mut made = vec![0; floor.len()];
    let mut suffered = vec![0; floor.len()];
    for (a, stretches) in floor.iter().enumerate() {
        for &(start, _) in stretches {
            // The first other speaker whose stretch is under way and goes on long enough.
            let interrupted = (0..floor.len()).find(|&b| {
                b != a
                    && floor[b].iter().any(|&(b0, b1)| {
                        b0 < start && start < b1 && b1 - start >= INTERRUPTION_MIN_S
                    })
            });
            if let Some(b) = interrupted {
                made[a] += 1;
                suffered[b] += 1;
            }
        }
    }
    (made, suffered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::SpeakerTurn;

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
    fn a_short_reply_inside_someone_elses_speech_is_a_backchannel() {
        // A talks 0-10; B says "yeah" 3.0-3.6 inside it, then cuts in for real at 8.
        // C cuts into B at 11 (B goes on 1 s). D's 0.8 s at 11.8-12.6 ends after both B
        // and C: inside no one stretch, so it is no backchannel but an interruption of C
        // (B goes on only 0.2 s after D starts).
        let s = stats(
            vec![
                turn(0.0, 10.0, 0),
                turn(3.0, 3.6, 1),
                turn(8.0, 12.0, 1),
                turn(11.0, 12.5, 2),
                turn(11.8, 12.6, 3),
            ],
            &["A", "B", "C", "D"],
            13.0,
        );
        let counts = |i: usize| {
            let p = &s.speakers[i];
            (
                p.turns,
                p.backchannels,
                p.interruptions_made,
                p.interruptions_suffered,
            )
        };
        // (turns, backchannels, interruptions made, suffered)
        assert_eq!(counts(0), (1, 0, 0, 1));
        assert_eq!(counts(1), (1, 1, 1, 1));
        assert_eq!(counts(2), (1, 0, 1, 1));
        assert_eq!(counts(3), (1, 0, 1, 0));
        // The backchannel still counts as B's talk time.
        assert!((s.speakers[1].talk_s - 4.6).abs() < 1e-9);
    }

    #[test]
    fn a_backchannel_in_a_pause_does_not_end_the_turn() {
        // A pauses 3-4; B's 0.5 s "mm" inside C's long stretch, during A's pause, is a
        // backchannel and does not take the floor from A.
        let s = stats(
            vec![
                turn(0.0, 3.0, 0),
                turn(4.0, 6.0, 0),
                turn(2.0, 8.0, 2),
                turn(3.2, 3.7, 1),
            ],
            &["A", "B", "C"],
            8.0,
        );
        assert_eq!(s.speakers[0].turns, 1);
        assert_eq!(s.speakers[1].backchannels, 1);
        assert_eq!(s.speakers[1].turns, 0);
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
            language: None,
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
