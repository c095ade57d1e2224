//! The corrections a reporter makes while checking a run against its audio: rename or
//! merge speakers, give a line (or some of its words) to another speaker, split a line,
//! fix a word. Each is a plain function of the transcript; speaking time follows the
//! words, so the statistics regenerated afterwards move with the correction.

use serde::{Deserialize, Serialize};

use crate::transcript::{Segment, SpeakerId, SpeakerTurn, Transcript, Word};

/// One correction, as the review page sends it. Speakers are named (names survive the
/// renumbering a merge causes); segments and words are indices into the current run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Edit {
    Rename {
        speaker: String,
        name: String,
    },
    Merge {
        from: String,
        into: String,
    },
    /// A segment, or its words `words.0..words.1`, to an existing or a new speaker.
    Assign {
        segment: usize,
        #[serde(default)]
        words: Option<(usize, usize)>,
        to: String,
    },
    /// The segment becomes `words[..word]` and `words[word..]`.
    Split {
        segment: usize,
        word: usize,
    },
    Correct {
        segment: usize,
        word: usize,
        text: String,
    },
}

/// A silent stretch of the old speaker's turn next to speech given away goes with it when
/// it is shorter than this and holds none of their words (segment edges are often a few
/// tenths of a second inside the turn the diarization found).
const SLIVER_S: f64 = 1.0;

/// Apply `edit` to `t`; returns a short description for the history. On error `t` is
/// unchanged and the message says what was wrong.
pub fn apply_edit(t: &mut Transcript, edit: &Edit) -> Result<String, String> {
    let mut next = t.clone();
    let label = match edit {
        Edit::Rename { speaker, name } => rename(&mut next, speaker, name)?,
        Edit::Merge { from, into } => merge(&mut next, from, into)?,
        Edit::Assign { segment, words, to } => assign(&mut next, *segment, *words, to)?,
        Edit::Split { segment, word } => split(&mut next, *segment, *word)?,
        Edit::Correct {
            segment,
            word,
            text,
        } => correct(&mut next, *segment, *word, text)?,
    };
    *t = next;
    Ok(label)
}

fn speaker_named(t: &Transcript, name: &str) -> Result<SpeakerId, String> {
    t.speakers
        .iter()
        .position(|s| s == name)
        .ok_or_else(|| format!("there is no speaker \"{name}\""))
}

fn checked_name(name: &str) -> Result<&str, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("a speaker's name cannot be empty".into());
    }
    if name.chars().any(char::is_control) {
        return Err("a speaker's name cannot hold control characters".into());
    }
    Ok(name)
}

fn segment_at(t: &Transcript, i: usize) -> Result<&Segment, String> {
    t.segments
        .get(i)
        .ok_or_else(|| format!("there is no segment {i} (the run has {})", t.segments.len()))
}

/// `"First words of the line…"` for labels.
fn quote(words: &[Word]) -> String {
    let text = Segment::text_of(&words[..words.len().min(4)]);
    if words.len() > 4 {
        format!("\"{text}…\"")
    } else {
        format!("\"{text}\"")
    }
}

fn rename(t: &mut Transcript, speaker: &str, name: &str) -> Result<String, String> {
    let id = speaker_named(t, speaker)?;
    let name = checked_name(name)?;
    if name == speaker {
        return Err(format!("\"{speaker}\" already has that name"));
    }
    if t.speakers.iter().any(|s| s == name) {
        return Err(format!(
            "\"{name}\" is another speaker's name: merge the two speakers instead"
        ));
    }
    t.speakers[id] = name.to_string();
    Ok(format!("rename {speaker} to {name}"))
}

fn merge(t: &mut Transcript, from: &str, into: &str) -> Result<String, String> {
    let gone = speaker_named(t, from)?;
    let kept = speaker_named(t, into)?;
    if gone == kept {
        return Err("a speaker cannot be merged into themselves".into());
    }
    // Speakers after the one removed move down one place.
    let renumber = |s: SpeakerId| -> SpeakerId {
        let s = if s == gone { kept } else { s };
        if s > gone {
            s - 1
        } else {
            s
        }
    };
    for seg in &mut t.segments {
        seg.speaker = seg.speaker.map(renumber);
        for w in &mut seg.words {
            w.speaker = w.speaker.map(renumber);
        }
    }
    for turn in &mut t.turns {
        turn.speaker = renumber(turn.speaker);
    }
    t.speakers.remove(gone);
    join_turns_of(t, renumber(kept));
    Ok(format!("merge {from} into {into}"))
}

fn assign(
    t: &mut Transcript,
    index: usize,
    words: Option<(usize, usize)>,
    to: &str,
) -> Result<String, String> {
    let seg = segment_at(t, index)?.clone();
    let (a, b) = match words {
        None => (0, seg.words.len()),
        Some((a, b)) if a < b && b <= seg.words.len() => (a, b),
        Some((a, b)) => {
            return Err(format!(
                "words {a}..{b} are not a range of segment {index}'s {} words",
                seg.words.len()
            ))
        }
    };
    let to = checked_name(to)?;
    let to_id = match t.speakers.iter().position(|s| s == to) {
        Some(id) => id,
        None => {
            t.speakers.push(to.to_string());
            t.speakers.len() - 1
        }
    };
    let whole = a == 0 && b == seg.words.len();
    let moved_words = &seg.words[a..b];
    if seg.speaker == Some(to_id) && moved_words.iter().all(|w| w.speaker == Some(to_id)) {
        return Err(format!("those words are {to}'s already"));
    }
    // The pieces the segment becomes: words before, the words given away, words after.
    let piece = |ws: &[Word], start: f64, end: f64, speaker| Segment {
        start,
        end,
        text: Segment::text_of(ws),
        words: ws.to_vec(),
        speaker,
        ..seg.clone()
    };
    let mut given = if whole {
        seg.clone()
    } else {
        piece(
            moved_words,
            if a == 0 {
                seg.start
            } else {
                seg.words[a].start
            },
            if b == seg.words.len() {
                seg.end
            } else {
                seg.words[b - 1].end
            },
            seg.speaker,
        )
    };
    let mut from: Vec<SpeakerId> = given.words.iter().filter_map(|w| w.speaker).collect();
    from.extend(seg.speaker);
    from.sort_unstable();
    from.dedup();
    from.retain(|&s| s != to_id);
    given.speaker = Some(to_id);
    given.words.iter_mut().for_each(|w| w.speaker = Some(to_id));
    let (span_start, span_end) = (given.start, given.end);
    let label = format!(
        "give {} {} to {to}",
        crate::timefmt::hms(given.start),
        quote(&given.words)
    );
    let mut pieces = Vec::new();
    if a > 0 {
        pieces.push(piece(
            &seg.words[..a],
            seg.start,
            seg.words[a - 1].end,
            seg.speaker,
        ));
    }
    pieces.push(given);
    if b < seg.words.len() {
        pieces.push(piece(
            &seg.words[b..],
            seg.words[b].start,
            seg.end,
            seg.speaker,
        ));
    }
    t.segments.splice(index..=index, pieces);
    move_speech(t, (span_start, span_end), &from, to_id);
    Ok(label)
}

fn split(t: &mut Transcript, index: usize, at: usize) -> Result<String, String> {
    let seg = segment_at(t, index)?.clone();
    if at == 0 || at >= seg.words.len() {
        return Err(format!(
            "segment {index} can only be split before one of its words 1..{}",
            seg.words.len().saturating_sub(1)
        ));
    }
    let (head, tail) = seg.words.split_at(at);
    let first = Segment {
        end: head[head.len() - 1].end,
        text: Segment::text_of(head),
        words: head.to_vec(),
        ..seg.clone()
    };
    let second = Segment {
        start: tail[0].start,
        text: Segment::text_of(tail),
        words: tail.to_vec(),
        ..seg.clone()
    };
    t.segments.splice(index..=index, [first, second]);
    Ok(format!(
        "split {} before \"{}\"",
        crate::timefmt::hms(seg.start),
        tail[0].word
    ))
}

fn correct(t: &mut Transcript, index: usize, at: usize, text: &str) -> Result<String, String> {
    segment_at(t, index)?;
    let seg = &mut t.segments[index];
    let count = seg.words.len();
    let word = seg
        .words
        .get_mut(at)
        .ok_or_else(|| format!("segment {index} has no word {at} (it has {count})"))?;
    let text = text.trim();
    if text.is_empty() || text.chars().any(char::is_control) {
        return Err(
            "a word needs some text (to remove speech, give it to a speaker instead)".into(),
        );
    }
    if word.word == text {
        return Err(format!("the word is \"{text}\" already"));
    }
    let label = format!("correct \"{}\" to \"{text}\"", word.word);
    word.word = text.to_string();
    seg.text = Segment::text_of(&seg.words);
    Ok(label)
}

/// Give the speech of `from` inside `span` to `to`: their turns are cut there and the cut
/// pieces become `to`'s. Slivers of `from`'s turns left beside the span without any of
/// their words go along; if nobody's turn covered the span, the span itself becomes speech
/// of `to` (the words were heard, whatever the diarization said).
pub fn move_speech(t: &mut Transcript, span: (f64, f64), from: &[SpeakerId], to: SpeakerId) {
    let (a, b) = span;
    let has_words_of = |speaker: SpeakerId, lo: f64, hi: f64| {
        t.segments.iter().flat_map(|s| &s.words).any(|w| {
            let mid = (w.start + w.end) / 2.0;
            w.speaker == Some(speaker) && mid > lo && mid < hi
        })
    };
    let mut kept = Vec::with_capacity(t.turns.len() + 2);
    let mut moved: Vec<(f64, f64)> = Vec::new();
    for turn in &t.turns {
        if !from.contains(&turn.speaker) || turn.end <= a || turn.start >= b {
            kept.push(*turn);
            continue;
        }
        moved.push((turn.start.max(a), turn.end.min(b)));
        for (lo, hi) in [(turn.start, a), (b, turn.end)] {
            if hi <= lo {
                continue;
            }
            if hi - lo < SLIVER_S && !has_words_of(turn.speaker, lo, hi) {
                moved.push((lo, hi));
            } else {
                kept.push(SpeakerTurn {
                    start: lo,
                    end: hi,
                    speaker: turn.speaker,
                });
            }
        }
    }
    if moved.is_empty() && b > a {
        moved.push((a, b));
    }
    kept.extend(moved.into_iter().map(|(start, end)| SpeakerTurn {
        start,
        end,
        speaker: to,
    }));
    t.turns = kept;
    join_turns_of(t, to);
}

/// One speaker's overlapping or touching turns become one; all turns sorted by start.
fn join_turns_of(t: &mut Transcript, speaker: SpeakerId) {
    t.turns
        .sort_by(|x, y| x.start.total_cmp(&y.start).then(x.speaker.cmp(&y.speaker)));
    let mut out: Vec<SpeakerTurn> = Vec::with_capacity(t.turns.len());
    let mut last_of_speaker: Option<usize> = None;
    for turn in t.turns.drain(..) {
        if turn.speaker == speaker {
            if let Some(i) = last_of_speaker {
                if turn.start <= out[i].end {
                    out[i].end = out[i].end.max(turn.end);
                    continue;
                }
            }
            last_of_speaker = Some(out.len());
        }
        out.push(turn);
    }
    t.turns = out;
}

/// `rebuild` of a JSON a person edited: the segment's `speaker` is what they change, so a
/// segment whose speaker none of its words has was given to that speaker by hand - its
/// words and its speech follow, as if given on the review page.
pub fn apply_hand_edits(t: &mut Transcript) {
    for i in 0..t.segments.len() {
        let seg = &t.segments[i];
        let Some(owner) = seg.speaker else { continue };
        let mut said_by: Vec<SpeakerId> = seg.words.iter().filter_map(|w| w.speaker).collect();
        said_by.sort_unstable();
        said_by.dedup();
        if said_by.is_empty() || said_by.contains(&owner) {
            continue;
        }
        let span = (seg.start, seg.end);
        t.segments[i]
            .words
            .iter_mut()
            .for_each(|w| w.speaker = Some(owner));
        move_speech(t, span, &said_by, owner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(w: &str, start: f64, speaker: usize) -> Word {
        Word {
            word: w.into(),
            start,
            end: start + 0.4,
            probability: 0.9,
            speaker: Some(speaker),
        }
    }

    fn seg(words: Vec<Word>) -> Segment {
        Segment {
            start: words[0].start,
            end: words[words.len() - 1].end,
            text: Segment::text_of(&words),
            speaker: words[0].speaker,
            words,
            avg_logprob: 0.0,
            no_speech_prob: 0.0,
            language: None,
        }
    }

    fn turn(start: f64, end: f64, speaker: usize) -> SpeakerTurn {
        SpeakerTurn {
            start,
            end,
            speaker,
        }
    }

    /// Host (0) 0-4.5 s, guest (1) 5-7.5 s, host again 8-10.5 s.
    fn talk() -> Transcript {
        Transcript {
            language: "en".into(),
            duration: 12.0,
            segments: vec![
                seg(vec![
                    word("So", 0.0, 0),
                    word("tell", 0.5, 0),
                    word("me.", 4.0, 0),
                ]),
                seg(vec![word("Well,", 5.0, 1), word("yes.", 7.0, 1)]),
                seg(vec![word("Right.", 8.0, 0), word("Thanks.", 10.0, 0)]),
            ],
            speakers: vec!["Host".into(), "Guest".into()],
            turns: vec![turn(0.0, 4.5, 0), turn(4.9, 7.5, 1), turn(8.0, 10.5, 0)],
            gaps: vec![],
        }
    }

    fn edit(t: &mut Transcript, e: Edit) -> String {
        apply_edit(t, &e).unwrap()
    }

    fn talk_time(t: &Transcript, s: usize) -> f64 {
        t.turns
            .iter()
            .filter(|x| x.speaker == s)
            .map(|x| x.end - x.start)
            .sum()
    }

    #[test]
    fn giving_a_segment_moves_its_words_and_its_speech() {
        let mut t = talk();
        let label = edit(
            &mut t,
            Edit::Assign {
                segment: 1,
                words: None,
                to: "Host".into(),
            },
        );
        assert_eq!(label, "give 00:00:05 \"Well, yes.\" to Host");
        assert_eq!(t.segments[1].speaker, Some(0));
        assert!(t.segments[1].words.iter().all(|w| w.speaker == Some(0)));
        assert!((talk_time(&t, 1) - 0.0).abs() < 1e-9);
        assert!(
            (talk_time(&t, 0) - (4.5 + 2.6 + 2.5)).abs() < 1e-9,
            "{:?}",
            t.turns
        );
        // The guest's 4.9-5.0 sliver (no guest word in it) went along.
        assert!(t.turns.iter().all(|x| x.speaker == 0));
    }

    #[test]
    fn giving_some_words_to_a_new_speaker_splits_the_line() {
        let mut t = talk();
        edit(
            &mut t,
            Edit::Assign {
                segment: 0,
                words: Some((1, 2)),
                to: "Producer".into(),
            },
        );
        assert_eq!(t.speakers, ["Host", "Guest", "Producer"]);
        let texts: Vec<_> = t.segments.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["So", "tell", "me.", "Well, yes.", "Right. Thanks."]);
        assert_eq!(t.segments[1].speaker, Some(2));
        assert_eq!((t.segments[1].start, t.segments[1].end), (0.5, 0.9));
        assert!((talk_time(&t, 2) - 0.4).abs() < 1e-9, "{:?}", t.turns);
        assert!((talk_time(&t, 0) - (4.5 - 0.4 + 2.5)).abs() < 1e-9);
    }

    #[test]
    fn merge_renumbers_and_joins_turns() {
        let mut t = talk();
        t.speakers.push("Extra".into());
        t.segments[2].speaker = Some(2);
        t.segments[2]
            .words
            .iter_mut()
            .for_each(|w| w.speaker = Some(2));
        t.turns[2].speaker = 2;
        edit(
            &mut t,
            Edit::Merge {
                from: "Guest".into(),
                into: "Host".into(),
            },
        );
        assert_eq!(t.speakers, ["Host", "Extra"]);
        assert_eq!(t.segments[1].speaker, Some(0));
        assert_eq!(t.segments[2].speaker, Some(1));
        assert_eq!(
            t.turns,
            vec![turn(0.0, 4.5, 0), turn(4.9, 7.5, 0), turn(8.0, 10.5, 1)]
        );
    }

    #[test]
    fn rename_split_and_correct() {
        let mut t = talk();
        edit(
            &mut t,
            Edit::Rename {
                speaker: "Guest".into(),
                name: " Dana ".into(),
            },
        );
        assert_eq!(t.speakers[1], "Dana");
        edit(
            &mut t,
            Edit::Split {
                segment: 0,
                word: 2,
            },
        );
        assert_eq!(t.segments[0].text, "So tell");
        assert_eq!((t.segments[1].start, t.segments[1].end), (4.0, 4.4));
        edit(
            &mut t,
            Edit::Correct {
                segment: 1,
                word: 0,
                text: "me!".into(),
            },
        );
        assert_eq!(t.segments[1].text, "me!");
    }

    #[test]
    fn bad_edits_say_why_and_change_nothing() {
        let t0 = talk();
        let cases = [
            (
                Edit::Rename {
                    speaker: "Guest".into(),
                    name: "Host".into(),
                },
                "merge the two speakers instead",
            ),
            (
                Edit::Rename {
                    speaker: "Nobody".into(),
                    name: "X".into(),
                },
                "there is no speaker \"Nobody\"",
            ),
            (
                Edit::Assign {
                    segment: 9,
                    words: None,
                    to: "Host".into(),
                },
                "there is no segment 9",
            ),
            (
                Edit::Assign {
                    segment: 0,
                    words: Some((2, 5)),
                    to: "Guest".into(),
                },
                "not a range",
            ),
            (
                Edit::Assign {
                    segment: 0,
                    words: None,
                    to: "Host".into(),
                },
                "Host's already",
            ),
            (
                Edit::Split {
                    segment: 0,
                    word: 0,
                },
                "only be split",
            ),
            (
                Edit::Correct {
                    segment: 0,
                    word: 0,
                    text: " ".into(),
                },
                "needs some text",
            ),
            (
                Edit::Merge {
                    from: "Host".into(),
                    into: "Host".into(),
                },
                "themselves",
            ),
        ];
        for (e, expected) in cases {
            let mut t = t0.clone();
            let err = apply_edit(&mut t, &e).unwrap_err();
            assert!(err.contains(expected), "{e:?}: {err}");
            assert_eq!(t, t0);
        }
    }

    #[test]
    fn edits_parse_from_the_pages_json() {
        let e: Edit =
            serde_json::from_str(r#"{"op":"assign","segment":3,"words":[1,4],"to":"Dana"}"#)
                .unwrap();
        assert_eq!(
            e,
            Edit::Assign {
                segment: 3,
                words: Some((1, 4)),
                to: "Dana".into()
            }
        );
        assert!(serde_json::from_str::<Edit>(r#"{"op":"delete","segment":1}"#).is_err());
    }

    #[test]
    fn a_segment_relabelled_by_hand_takes_its_words_and_speech() {
        let mut t = talk();
        t.segments[2].speaker = Some(1);
        apply_hand_edits(&mut t);
        assert!(t.segments[2].words.iter().all(|w| w.speaker == Some(1)));
        assert!(
            (talk_time(&t, 1) - (2.6 + 2.5)).abs() < 1e-9,
            "{:?}",
            t.turns
        );
        let mut untouched = talk();
        apply_hand_edits(&mut untouched);
        assert_eq!(untouched, talk());
    }
}
