//! From labelled embedding windows to speaker turns.
//!
//! Windows overlap (1.5 s every 0.75 s), so every 10 ms frame of speech is covered by one
//! to three windows; the frame takes the label most of them carry (ties go to the window
//! whose centre is nearest). Frames outside VAD speech stay silent. Runs of one label are
//! turns; a turn shorter than `MIN_TURN_S` between two turns is given to its longer
//! neighbour, as a real 0.1 s turn is almost always a window straddling a change.

use super::resegment::Heard;
use crate::transcript::SpeakerTurn;

pub const FRAME_S: f64 = 0.01;
const MIN_TURN_S: f64 = 0.3;
/// Pauses shorter than this inside one speaker's speech stay inside their turn, as in the
/// samples' references, which split a speaker's speech at pauses of 0.5 s (measured: 0.4 s
/// took the interview's DER from 4.1% to 3.2% and the panel's from 3.0% to 2.3%; once
/// slivers no longer bridged pauses, 0.5 s took rapid from 2.0% to 1.6% and the panel from
/// 1.2% to 0.8%; 0.6 s starts to join separate utterances).
const MIN_PAUSE_S: f64 = 0.5;
/// Overlapping speech shorter than this is left out (a breath of the other speaker).
const MIN_OVERLAP_S: f64 = 0.1;
/// Speech shorter than this with silence on both sides is dropped (see `label_runs`).
const SLIVER_S: f64 = 0.1;
/// Where the segmentation hears one speaker and the embedding windows favour another, the
/// segmentation's speaker takes the frame when the windows' mean similarity to it is at
/// most this far below their favourite's. Measured on the samples (DER with collar 0.25):
/// 0.2 or 0.3 leave a quick exchange on the real recording to the windows (its dominant
/// speaker flips), 0.5 lets merged local speakers take a host's short turns (interview
/// 1.7% -> 3.3%), 0.6 more so (4.8%).
const OVERRIDE_MARGIN: f32 = 0.4;
/// An overlap that lasts until the talked-over speaker stops, followed within this by
/// someone else alone, is that someone's interruption (see `overlap_to_the_next_speaker`).
const HANDOVER_S: f64 = 0.3;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub start: f64,
    pub end: f64,
}

/// Windows of `len` seconds every `hop` inside each speech region; a region shorter than
/// `len` is one window; the last window of a region ends at the region's end.
pub fn windows_for_regions(speech: &[(f64, f64)], len: f64, hop: f64) -> Vec<Window> {
    let mut out = Vec::new();
    for &(start, end) in speech {
        if end - start <= len {
            out.push(Window { start, end });
            continue;
        }
        let mut t = start;
        while t + len < end {
            out.push(Window {
                start: t,
                end: t + len,
            });
            t += hop;
        }
        out.push(Window {
            start: end - len,
            end,
        });
    }
    out
}

/// Speaker turns from labelled windows, speaker ids renumbered in order of first
/// appearance. Also returns the map old label -> new id (None: label never won a frame).
pub fn label_turns(
    windows: &[Window],
    labels: &[usize],
    speech: &[(f64, f64)],
) -> (Vec<SpeakerTurn>, Vec<Option<usize>>) {
    let n_labels = labels.iter().max().map_or(0, |m| m + 1);
    let one_hot: Vec<Vec<f32>> = labels
        .iter()
        .map(|&l| (0..n_labels).map(|k| f32::from(u8::from(k == l))).collect())
        .collect();
    label_turns_scored(windows, &one_hot, speech, None)
}

/// Like `label_turns`, but each window votes for every speaker with a score (its cosine
/// similarity to the speaker's centroid) instead of one hard label. A window straddling
/// a change resembles both voices and barely tips the balance, while the windows on
/// either side vote firmly, so changes land closer to where they happened.
///
/// `heard`, when given, is what the segmentation model hears in each frame (see
/// `resegment::frame_speaker_sets`, on this module's `FRAME_S` grid): where it hears
/// nobody, the frame is silence; where it hears one speaker, that speaker has the frame
/// unless the windows find them more than `OVERRIDE_MARGIN` less likely than their own
/// choice; where it hears two, the one the windows favour has it and the other gets an
/// overlapping turn; where its windows dispute who speaks alone, the embedding windows
/// choose among the speakers it names (not among everyone: the coarse windows reach
/// over a turn change, and a voice the segmentation does not hear there at all is the
/// wrong one). One speaker's turns never overlap each other.
pub fn label_turns_scored(
    windows: &[Window],
    scores: &[Vec<f32>],
    speech: &[(f64, f64)],
    heard: Option<&[Heard]>,
) -> (Vec<SpeakerTurn>, Vec<Option<usize>>) {
    let n_labels = scores.first().map_or(0, |s| s.len());
    let end = speech.iter().map(|r| r.1).fold(0.0, f64::max);
    let frames = (end / FRAME_S).ceil() as usize;
    let mut votes = vec![0f32; frames * n_labels];
    // How many windows cover each frame.
    let mut count = vec![0f32; frames];
    let mut nearest = vec![(f64::MAX, usize::MAX); frames];
    for (w, score) in windows.iter().zip(scores) {
        let a = (w.start / FRAME_S).floor().max(0.0) as usize;
        let b = ((w.end / FRAME_S).ceil() as usize).min(frames);
        let centre = (w.start + w.end) / 2.0;
        let best = argmax(score);
        for f in a..b {
            for (v, s) in votes[f * n_labels..(f + 1) * n_labels]
                .iter_mut()
                .zip(score)
            {
                *v += s;
            }
            count[f] += 1.0;
            let d = ((f as f64 + 0.5) * FRAME_S - centre).abs();
            if d < nearest[f].0 {
                nearest[f] = (d, best);
            }
        }
    }
    let mut frame_label: Vec<Option<usize>> = vec![None; frames];
    for &(s, e) in speech {
        let a = (s / FRAME_S).floor().max(0.0) as usize;
        let b = ((e / FRAME_S).ceil() as usize).min(frames);
        for f in a..b {
            if count[f] == 0.0 || n_labels == 0 {
                continue;
            }
            let v = &votes[f * n_labels..(f + 1) * n_labels];
            let top = v.iter().copied().fold(f32::MIN, f32::max);
            // Ties (equal hard votes) go to the window whose centre is nearest.
            let tied: Vec<usize> = (0..n_labels).filter(|&l| v[l] >= top - 1e-6).collect();
            frame_label[f] = Some(if tied.len() == 1 || !tied.contains(&nearest[f].1) {
                tied[0]
            } else {
                nearest[f].1
            });
        }
    }
    let mut second: Vec<Option<usize>> = vec![None; frames];
    for (f, heard) in heard.unwrap_or(&[]).iter().enumerate().take(frames) {
        let Some(label) = frame_label[f] else {
            continue;
        };
        let set = match heard {
            Heard::Unknown => continue,
            Heard::OneOf(candidates) => {
                let v = &votes[f * n_labels..(f + 1) * n_labels];
                if !candidates.contains(&label) {
                    frame_label[f] = candidates
                        .iter()
                        .copied()
                        .max_by(|&a, &b| v[a].total_cmp(&v[b]));
                }
                continue;
            }
            Heard::Speakers(set) => set,
        };
        match set.as_slice() {
            // Silence between words, or padding the VAD kept around speech.
            [] => frame_label[f] = None,
            [only] => {
                // The segmentation's local speakers sometimes span two voices of a quick
                // exchange; it is trusted over the embedding windows only where they
                // find its speaker nearly as likely as their own choice.
                let v = &votes[f * n_labels..(f + 1) * n_labels];
                if (v[label] - v[*only]) / count[f] <= OVERRIDE_MARGIN {
                    frame_label[f] = Some(*only);
                }
            }
            &[a, b] => {
                let v = &votes[f * n_labels..(f + 1) * n_labels];
                let lead = if set.contains(&label) {
                    label
                } else if v[a] >= v[b] {
                    a
                } else {
                    b
                };
                frame_label[f] = Some(lead);
                second[f] = Some(if lead == a { b } else { a });
            }
            _ => {}
        }
    }
    let mut runs = label_runs(&frame_label);
    let mut overlaps = overlap_runs(&second);
    overlap_to_the_next_speaker(&runs, &mut overlaps);
    runs.extend(overlaps);
    runs.sort_by_key(|r| (r.0, r.1));
    // An overlap run bridged across a pause can reach into the same speaker's own turn.
    let mut turns: Vec<(usize, usize, usize)> = Vec::with_capacity(runs.len());
    for r in runs {
        match turns.iter_mut().rev().find(|t| t.2 == r.2) {
            Some(t) if r.0 <= t.1 => t.1 = t.1.max(r.1),
            _ => turns.push(r),
        }
    }
    let mut map: Vec<Option<usize>> = vec![None; n_labels];
    let mut next_id = 0;
    let turns = turns
        .into_iter()
        .map(|(a, b, l)| {
            let id = *map[l].get_or_insert_with(|| {
                next_id += 1;
                next_id - 1
            });
            SpeakerTurn {
                start: a as f64 * FRAME_S,
                end: b as f64 * FRAME_S,
                speaker: id,
            }
        })
        .collect();
    (turns, map)
}

/// Who talks over someone until they stop and then goes on alone is the interrupter: an
/// overlap run that lasts until the talked-over speaker's run ends, followed within
/// `HANDOVER_S` by a run of someone else alone, is given to that speaker and joined to their
/// run (it is one stretch of their speech, talked over at first). The voice of
/// an interruption's first second, heard under another voice, is the least sure thing the
/// segmentation says (on the panel sample, three interruptions were heard as the host).
fn overlap_to_the_next_speaker(
    lead: &[(usize, usize, usize)],
    overlaps: &mut [(usize, usize, usize)],
) {
    let handover = (HANDOVER_S / FRAME_S).round() as usize;
    for o in overlaps.iter_mut() {
        let Some(talked_over) = lead.iter().find(|r| r.0 <= o.0 && o.0 < r.1) else {
            continue;
        };
        let Some(next) = lead.iter().find(|r| r.0 > o.0) else {
            continue;
        };
        let lasts_until_they_stop = o.1 + handover >= talked_over.1;
        let next_follows = next.0 <= o.1 + handover;
        if lasts_until_they_stop && next_follows && next.2 != talked_over.2 {
            // One stretch of speech: across the short pause too.
            o.2 = next.2;
            o.1 = o.1.max(next.0);
        }
    }
}

/// Overlapping speech as (first frame, end frame, label) runs: pauses up to `MIN_PAUSE_S`
/// are bridged, and runs shorter than `MIN_OVERLAP_S` dropped.
fn overlap_runs(second: &[Option<usize>]) -> Vec<(usize, usize, usize)> {
    let max_gap = (MIN_PAUSE_S / FRAME_S).round() as usize;
    let mut runs: Vec<(usize, usize, usize)> = Vec::new();
    for (f, l) in second.iter().enumerate() {
        let Some(l) = *l else { continue };
        match runs.iter_mut().rev().find(|r| r.2 == l) {
            Some(last) if f <= last.1 + max_gap => last.1 = f + 1,
            _ => runs.push((f, f + 1, l)),
        }
    }
    let min = (MIN_OVERLAP_S / FRAME_S).round() as usize;
    runs.retain(|r| r.1 - r.0 >= min);
    runs
}

/// Runs of one label (first frame, end frame, label): silence ends a run; a run shorter
/// than `MIN_TURN_S` between two others goes to the longer neighbour; neighbours that then
/// agree merge across pauses up to `MIN_PAUSE_S`.
fn label_runs(frame_label: &[Option<usize>]) -> Vec<(usize, usize, usize)> {
    // Runs of equal labels (silence ends a run).
    let mut runs: Vec<(usize, usize, usize)> = Vec::new();
    for (f, l) in frame_label.iter().enumerate() {
        match (l, runs.last_mut()) {
            (Some(l), Some(last)) if last.2 == *l && last.1 == f => last.1 = f + 1,
            (Some(l), _) => runs.push((f, f + 1, *l)),
            (None, _) => {}
        }
    }
    // A sliver of speech with silence on both sides is the edge of a stretch that the
    // segmentation windows do not quite reach (a chunk's first or last frames), not a word:
    // left in, it would bridge the pause around it.
    let sliver = (SLIVER_S / FRAME_S).round() as usize;
    let touching = |i: usize| {
        (i > 0 && runs[i - 1].1 == runs[i].0) || runs.get(i + 1).is_some_and(|n| n.0 == runs[i].1)
    };
    let mut runs: Vec<(usize, usize, usize)> = (0..runs.len())
        .filter(|&i| runs[i].1 - runs[i].0 >= sliver || touching(i))
        .map(|i| runs[i])
        .collect();
    // Give short runs sandwiched between speech to the longer adjacent run.
    let min_frames = (MIN_TURN_S / FRAME_S) as usize;
    let mut i = 0;
    while i < runs.len() {
        let (a, b, _) = runs[i];
        if b - a < min_frames {
            let prev = (i > 0 && runs[i - 1].1 == a).then(|| runs[i - 1]);
            let next = (i + 1 < runs.len() && runs[i + 1].0 == b).then(|| runs[i + 1]);
            let donor = match (prev, next) {
                (Some(p), Some(n)) => Some(if p.1 - p.0 >= n.1 - n.0 { p.2 } else { n.2 }),
                (Some(p), None) => Some(p.2),
                (None, Some(n)) => Some(n.2),
                (None, None) => None,
            };
            if let Some(l) = donor {
                runs[i].2 = l;
            }
        }
        i += 1;
    }
    // Merge neighbours that now agree, across pauses shorter than `MIN_PAUSE_S` (a
    // breath or a comma inside one person's speech is still their speech, as in
    // pyannote's `min_duration_off`); longer silences stay out of the turns, and the
    // statistics decide which pauses end a turn.
    let max_gap = (MIN_PAUSE_S / FRAME_S).round() as usize;
    let mut merged: Vec<(usize, usize, usize)> = Vec::new();
    for r in runs {
        match merged.last_mut() {
            Some(last) if last.2 == r.2 && r.0 <= last.1 + max_gap => last.1 = r.1,
            _ => merged.push(r),
        }
    }
    merged
}

fn argmax(v: &[f32]) -> usize {
    (0..v.len())
        .max_by(|&a, &b| v[a].total_cmp(&v[b]).then(b.cmp(&a)))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(start: f64, end: f64) -> Window {
        Window { start, end }
    }

    #[test]
    fn an_overlap_until_the_speaker_stops_belongs_to_who_goes_on() {
        // Lead: A (0) frames 0-100, C (2) 100-200. Overlap 80-100 heard as B (1): C starts
        // under A and goes on, so it is C's. A backchannel of B at 30-40 stays B's, and so
        // does an overlap after which A goes on (60-70 inside 0-100, A's run continues).
        let lead = [(0, 100, 0), (100, 200, 2)];
        let mut overlaps = [(30, 40, 1), (80, 100, 1)];
        overlap_to_the_next_speaker(&lead, &mut overlaps);
        assert_eq!(overlaps, [(30, 40, 1), (80, 100, 2)]);
        // A short pause between the overlap and the speaker's own run is bridged.
        let lead = [(0, 100, 0), (120, 200, 2)];
        let mut overlaps = [(80, 95, 1)];
        overlap_to_the_next_speaker(&lead, &mut overlaps);
        assert_eq!(overlaps, [(80, 120, 2)]);
        // The next speaker alone starts too late after the overlap: left as heard.
        let lead = [(0, 100, 0), (140, 200, 2)];
        let mut overlaps = [(80, 100, 1)];
        overlap_to_the_next_speaker(&lead, &mut overlaps);
        assert_eq!(overlaps, [(80, 100, 1)]);
    }

    #[test]
    fn a_sliver_between_pauses_does_not_bridge_them() {
        // Speaker 0 frames 0-100, a 5-frame sliver at 130-135, speaker 0 again 160-260: the
        // sliver is dropped, so the 0.6 s pause ends the run. A 20-frame stretch stays.
        let mut labels = vec![None; 260];
        for f in (0..100).chain(130..135).chain(160..260) {
            labels[f] = Some(0);
        }
        assert_eq!(label_runs(&labels), vec![(0, 100, 0), (160, 260, 0)]);
        labels[130..150].fill(Some(0));
        assert_eq!(label_runs(&labels), vec![(0, 260, 0)]);
    }

    #[test]
    fn windows_cover_regions_and_end_at_their_ends() {
        let ws = windows_for_regions(&[(0.0, 1.0), (2.0, 5.0)], 1.5, 0.75);
        assert_eq!(ws[0], w(0.0, 1.0));
        assert_eq!(ws[1], w(2.0, 3.5));
        assert_eq!(ws.last().copied(), Some(w(3.5, 5.0)));
        assert!(ws.iter().all(|x| x.end - x.start <= 1.5 + 1e-9));
    }

    #[test]
    fn a_change_lands_between_the_windows_that_disagree() {
        // Speaker A 0-3 s, B 3-6 s, windows every 0.75 s.
        let speech = [(0.0, 6.0)];
        let ws = windows_for_regions(&speech, 1.5, 0.75);
        let labels: Vec<usize> = ws
            .iter()
            .map(|x| if (x.start + x.end) / 2.0 < 3.0 { 7 } else { 2 })
            .collect();
        let (turns, map) = label_turns(&ws, &labels, &speech);
        assert_eq!(turns.len(), 2, "{turns:?}");
        assert_eq!(turns[0].speaker, 0);
        assert_eq!(turns[1].speaker, 1);
        assert!((turns[0].end - 3.0).abs() <= 0.4, "{turns:?}");
        assert_eq!(map[7], Some(0));
        assert_eq!(map[2], Some(1));
    }

    #[test]
    fn turns_follow_speech_and_never_span_silence() {
        let speech = [(0.0, 2.0), (3.0, 5.0)];
        let ws = windows_for_regions(&speech, 1.5, 0.75);
        let labels = vec![0; ws.len()];
        let (turns, _) = label_turns(&ws, &labels, &speech);
        assert_eq!(turns.len(), 2, "{turns:?}");
        assert_eq!((turns[0].start, turns[0].end), (0.0, 2.0));
        assert_eq!((turns[1].start, turns[1].end), (3.0, 5.0));
        assert!(turns.iter().all(|t| t.speaker == 0));
    }

    #[test]
    fn the_segmentation_decides_silence_overlap_and_close_calls() {
        // Windows: speaker 0 over 0-4 s, speaker 1 over 4-8 s.
        let speech = [(0.0, 8.0)];
        let ws = vec![w(0.0, 4.0), w(4.0, 8.0)];
        let scores = vec![vec![0.8, 0.1], vec![0.1, 0.8]];
        let frames = 800;
        let mut heard: Vec<Heard> = vec![Heard::Unknown; frames];
        for (f, h) in heard.iter_mut().enumerate() {
            *h = Heard::Speakers(match f {
                0..=49 => vec![],        // 0-0.5 s: VAD padding, nobody speaks
                50..=299 => vec![0],     // agrees with the windows
                300..=349 => vec![1],    // 3-3.5 s: speaker 1 by the windows' 0.7 margin: no
                350..=449 => vec![0, 1], // 3.5-4.5 s: both at once
                _ => vec![1],
            });
        }
        let (turns, _) = label_turns_scored(&ws, &scores, &speech, Some(&heard));
        let spans: Vec<(f64, f64, usize)> = turns
            .iter()
            .map(|t| {
                (
                    (t.start * 100.0).round() / 100.0,
                    (t.end * 100.0).round() / 100.0,
                    t.speaker,
                )
            })
            .collect();
        // Speaker 0 talks from 0.5 s (not over the padding before) to 4.5 s, over speaker 1
        // from 4.0 s, who comes in at 3.5 s (the segmentation's overlap) and goes on to the
        // end; speaker 0's own turn and its overlap are one turn.
        assert_eq!(spans, vec![(0.5, 4.5, 0), (3.5, 8.0, 1)]);
        // A close call goes to the segmentation: both windows barely prefer speaker 0.
        let close = vec![vec![0.5, 0.3], vec![0.5, 0.3]];
        let heard: Vec<Heard> = vec![Heard::Speakers(vec![1]); frames];
        let (turns, map) = label_turns_scored(&ws, &close, &speech, Some(&heard));
        assert_eq!(turns.len(), 1);
        assert_eq!(map[1], Some(turns[0].speaker));
    }

    #[test]
    fn a_disputed_frame_goes_to_one_of_the_voices_the_segmentation_names() {
        // One window over 0-2 s that sounds most like speaker 2; the segmentation hears one
        // person throughout but its windows dispute whether it is speaker 0 or 1.
        let speech = [(0.0, 2.0)];
        let ws = vec![w(0.0, 2.0)];
        let scores = vec![vec![0.2, 0.5, 0.8]];
        let heard = vec![Heard::OneOf(vec![0, 1]); 200];
        let (turns, map) = label_turns_scored(&ws, &scores, &speech, Some(&heard));
        assert_eq!(turns.len(), 1);
        // Of the two it names, the windows favour speaker 1.
        assert_eq!(map[1], Some(turns[0].speaker));
        assert_eq!(map[2], None);
        // A dispute that includes the windows' own choice keeps it.
        let heard = vec![Heard::OneOf(vec![0, 2]); 200];
        let (_, map) = label_turns_scored(&ws, &scores, &speech, Some(&heard));
        assert_eq!(map[2], Some(0));
    }

    #[test]
    fn blips_are_absorbed() {
        let speech = [(0.0, 4.0)];
        let ws = vec![w(0.0, 2.0), w(1.9, 2.1), w(2.0, 4.0)];
        let (turns, _) = label_turns(&ws, &[0, 1, 0], &speech);
        assert_eq!(turns.len(), 1, "{turns:?}");
    }

    #[test]
    fn a_short_pause_stays_inside_the_turn_a_long_one_does_not() {
        let speech = [(0.0, 2.0), (2.3, 4.0), (5.0, 6.0)];
        let ws = windows_for_regions(&speech, 1.5, 0.75);
        let (turns, _) = label_turns(&ws, &vec![0; ws.len()], &speech);
        assert_eq!(turns.len(), 2, "{turns:?}");
        assert_eq!((turns[0].start, turns[0].end), (0.0, 4.0));
        assert_eq!((turns[1].start, turns[1].end), (5.0, 6.0));
    }

    #[test]
    fn soft_votes_move_a_change_towards_the_firm_side() {
        // A 0-3 s, B 3-6 s. The window straddling the change (2.25-3.75) is labelled A
        // but resembles both; with hard labels its votes pull the change late.
        let speech = [(0.0, 6.0)];
        let ws = windows_for_regions(&speech, 1.5, 0.75);
        let scores: Vec<Vec<f32>> = ws
            .iter()
            .map(|x| {
                let centre = (x.start + x.end) / 2.0;
                if (centre - 3.0).abs() < 0.1 {
                    vec![0.45, 0.40]
                } else if centre < 3.0 {
                    vec![0.8, 0.1]
                } else {
                    vec![0.1, 0.8]
                }
            })
            .collect();
        let hard: Vec<usize> = scores.iter().map(|s| argmax(s)).collect();
        let (hard_turns, _) = label_turns(&ws, &hard, &speech);
        let (soft_turns, _) = label_turns_scored(&ws, &scores, &speech, None);
        let err = |t: &[SpeakerTurn]| (t[0].end - 3.0).abs();
        assert_eq!(soft_turns.len(), 2, "{soft_turns:?}");
        assert!(
            err(&soft_turns) < err(&hard_turns),
            "{soft_turns:?} vs {hard_turns:?}"
        );
        assert!(err(&soft_turns) <= 0.4, "{soft_turns:?}");
    }
}
