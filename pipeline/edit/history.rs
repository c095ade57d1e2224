//! Undo and redo that survive a reload and a crash: every edit is kept in the run's JSON
//! as a patch - the stretch of segments, turns and speaker names it replaced and what it
//! put there - so undo puts the old stretch back and redo the new one. A patch only
//! applies where the document still holds what it expects, so a document changed behind
//! the history's back (by hand, by a script) is refused rather than corrupted.

use serde::{Deserialize, Serialize};

use crate::transcript::{Segment, SpeakerTurn, Transcript};

/// `items[at..at + before.len()]` was replaced by `after`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Splice<T> {
    pub at: usize,
    pub before: Vec<T>,
    pub after: Vec<T>,
}

impl<T: Clone + PartialEq> Splice<T> {
    /// The smallest splice turning `old` into `new`: common head and tail are left out.
    pub fn between(old: &[T], new: &[T]) -> Self {
        let head = old.iter().zip(new).take_while(|(a, b)| a == b).count();
        let tail = old[head..]
            .iter()
            .rev()
            .zip(new[head..].iter().rev())
            .take_while(|(a, b)| a == b)
            .count();
        Splice {
            at: head,
            before: old[head..old.len() - tail].to_vec(),
            after: new[head..new.len() - tail].to_vec(),
        }
    }

    fn is_empty(&self) -> bool {
        self.before.is_empty() && self.after.is_empty()
    }

    /// Redo (`forwards`) or undo the splice on `items`, if they hold what it expects.
    fn apply_to(&self, items: &mut Vec<T>, forwards: bool) -> bool {
        let (from, to) = if forwards {
            (&self.before, &self.after)
        } else {
            (&self.after, &self.before)
        };
        let range = self.at..self.at + from.len();
        if items.get(range.clone()) != Some(from.as_slice()) {
            return false;
        }
        items.splice(range, to.iter().cloned());
        true
    }
}

/// One edit, as it changed the document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Patch {
    /// What the edit did, for the undo button's tooltip ("rename SPEAKER_01 to Dana").
    pub label: String,
    /// Speaker names before and after, when the edit changed them.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub speakers: Option<(Vec<String>, Vec<String>)>,
    pub segments: Splice<Segment>,
    pub turns: Splice<SpeakerTurn>,
}

impl Patch {
    /// The patch that turns `old` into `new`.
    pub fn between(label: String, old: &Transcript, new: &Transcript) -> Self {
        Patch {
            label,
            speakers: (old.speakers != new.speakers)
                .then(|| (old.speakers.clone(), new.speakers.clone())),
            segments: Splice::between(&old.segments, &new.segments),
            turns: Splice::between(&old.turns, &new.turns),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.speakers.is_none() && self.segments.is_empty() && self.turns.is_empty()
    }

    /// Apply forwards (redo) or backwards (undo). All or nothing: on a mismatch `t` is
    /// left as it was.
    fn apply(&self, t: &mut Transcript, forwards: bool) -> Result<(), String> {
        let mut next = t.clone();
        let segments_ok = self.segments.apply_to(&mut next.segments, forwards);
        let turns_ok = self.turns.apply_to(&mut next.turns, forwards);
        let speakers_ok = match &self.speakers {
            None => true,
            Some((old, new)) => {
                let (from, to) = if forwards { (old, new) } else { (new, old) };
                let ok = &next.speakers == from;
                next.speakers = to.clone();
                ok
            }
        };
        if !(segments_ok && turns_ok && speakers_ok) {
            return Err(format!(
                "the run no longer holds what \"{}\" changed (was its JSON edited by hand?)",
                self.label
            ));
        }
        *t = next;
        Ok(())
    }
}

/// The edits made so far; `cursor` of them are applied (the rest can be redone).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub cursor: usize,
    pub edits: Vec<Patch>,
}

impl History {
    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    /// A read-back history must be usable: its cursor within its edits.
    pub fn check(&self) -> Result<(), String> {
        if self.cursor > self.edits.len() {
            return Err(format!(
                "cursor {} is past its {} edits",
                self.cursor,
                self.edits.len()
            ));
        }
        Ok(())
    }

    /// Record an edit just made; whatever could have been redone is dropped.
    pub fn push(&mut self, patch: Patch) {
        self.edits.truncate(self.cursor);
        self.edits.push(patch);
        self.cursor = self.edits.len();
    }

    pub fn undo_label(&self) -> Option<&str> {
        self.cursor
            .checked_sub(1)
            .map(|i| self.edits[i].label.as_str())
    }

    pub fn redo_label(&self) -> Option<&str> {
        self.edits.get(self.cursor).map(|p| p.label.as_str())
    }

    pub fn undo(&mut self, t: &mut Transcript) -> Result<(), String> {
        let i = self.cursor.checked_sub(1).ok_or("nothing to undo")?;
        self.edits[i].apply(t, false)?;
        self.cursor = i;
        Ok(())
    }

    pub fn redo(&mut self, t: &mut Transcript) -> Result<(), String> {
        let patch = self.edits.get(self.cursor).ok_or("nothing to redo")?;
        patch.apply(t, true)?;
        self.cursor += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::transcript;

    #[test]
    fn a_splice_keeps_only_what_changed() {
        let s = Splice::between(&[1, 2, 3, 4, 5], &[1, 2, 9, 9, 5]);
        assert_eq!((s.at, s.before, s.after), (2, vec![3, 4], vec![9, 9]));
        let s = Splice::between(&[1, 2], &[1, 2, 3]);
        assert_eq!((s.at, s.before, s.after), (2, vec![], vec![3]));
        let s = Splice::between(&[1, 1, 1], &[1, 1]);
        assert_eq!((s.at, s.before.len(), s.after.len()), (2, 1, 0));
    }

    #[test]
    fn undo_and_redo_walk_the_history() {
        let original = transcript(true);
        let mut t = original.clone();
        let mut h = History::default();
        let mut edited = t.clone();
        edited.speakers[1] = "Dana".into();
        edited.segments[0].text = "Hi there.".into();
        h.push(Patch::between("two changes".into(), &t, &edited));
        t = edited.clone();
        assert_eq!(h.undo_label(), Some("two changes"));
        h.undo(&mut t).unwrap();
        assert_eq!(t, original);
        assert_eq!(h.redo_label(), Some("two changes"));
        assert!(h.undo(&mut t).is_err());
        h.redo(&mut t).unwrap();
        assert_eq!(t, edited);
        assert!(h.redo(&mut t).is_err());
    }

    #[test]
    fn a_new_edit_drops_the_redo_tail() {
        let mut t = transcript(true);
        let mut h = History::default();
        let mut a = t.clone();
        a.speakers[0] = "A".into();
        h.push(Patch::between("a".into(), &t, &a));
        h.undo(&mut a).unwrap();
        t = a.clone();
        let mut b = t.clone();
        b.speakers[0] = "B".into();
        h.push(Patch::between("b".into(), &t, &b));
        assert_eq!(h.edits.len(), 1);
        assert_eq!(h.redo_label(), None);
        assert_eq!(h.undo_label(), Some("b"));
    }

    #[test]
    fn a_document_changed_behind_the_history_is_refused_untouched() {
        let t0 = transcript(true);
        let mut t1 = t0.clone();
        t1.segments[1].text = "Bye.".into();
        let mut h = History::default();
        h.push(Patch::between("fix".into(), &t0, &t1));
        let mut changed = t1.clone();
        changed.segments[1].text = "Someone else's fix.".into();
        let before = changed.clone();
        let e = h.undo(&mut changed).unwrap_err();
        assert!(e.contains("no longer holds"), "{e}");
        assert_eq!(changed, before);
        assert_eq!(h.cursor, 1);
    }
}
