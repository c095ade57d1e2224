//! Which segments to fetch after each playlist refresh: every segment exactly once, in
//! media-sequence order, across refreshes whose windows overlap, and the segments that
//! slid out of the window before they could be fetched (a gap, never a silent skip).

use super::playlist::{MediaList, SegmentRef};

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Fetch(SegmentRef),
    /// Segments `first..first+count` left the playlist unseen; `seconds` is estimated from
    /// the target duration, the only length the playlist still gives for them.
    Missed {
        first: u64,
        count: u64,
        seconds: f64,
    },
}

#[derive(Debug, Default)]
pub struct Sequencer {
    /// The next media-sequence number owed to the stream.
    next: Option<u64>,
}

impl Sequencer {
    /// Steps for a fresh playlist snapshot. The first snapshot starts at its first
    /// segment (a joined stream keeps what its window still holds).
    pub fn plan(&mut self, list: &MediaList) -> Vec<Step> {
        let mut steps = Vec::new();
        let next = *self.next.get_or_insert(list.first_seq);
        let window_end = list.first_seq + list.segments.len() as u64;
        if list.first_seq > next {
            let count = list.first_seq - next;
            steps.push(Step::Missed {
                first: next,
                count,
                seconds: count as f64 * list.target_duration,
            });
            self.next = Some(list.first_seq);
        } else if window_end + 1 < next && list.segments.len() > 1 {
            // The numbering went backwards by more than a refresh race can explain: the
            // stream restarted. Nothing here is new; wait for numbers past `next`.
            return steps;
        }
        for seg in &list.segments {
            if seg.seq >= self.next.unwrap_or(0) {
                self.next = Some(seg.seq + 1);
                steps.push(Step::Fetch(seg.clone()));
            }
        }
        steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(first: u64, n: u64, ended: bool) -> MediaList {
        MediaList {
            target_duration: 4.0,
            first_seq: first,
            segments: (first..first + n)
                .map(|seq| SegmentRef {
                    seq,
                    url: format!("s{seq}.ts"),
                    duration: 4.0,
                    key: None,
                    init: None,
                })
                .collect(),
            ended,
        }
    }

    fn fetched(steps: &[Step]) -> Vec<u64> {
        steps
            .iter()
            .filter_map(|s| match s {
                Step::Fetch(seg) => Some(seg.seq),
                Step::Missed { .. } => None,
            })
            .collect()
    }

    #[test]
    fn overlapping_windows_give_each_segment_once() {
        let mut s = Sequencer::default();
        assert_eq!(fetched(&s.plan(&list(10, 3, false))), vec![10, 11, 12]);
        assert_eq!(fetched(&s.plan(&list(10, 3, false))), Vec::<u64>::new());
        assert_eq!(fetched(&s.plan(&list(11, 4, false))), vec![13, 14]);
        assert_eq!(fetched(&s.plan(&list(13, 3, true))), vec![15]);
    }

    #[test]
    fn a_window_that_slid_past_unseen_segments_is_a_gap() {
        let mut s = Sequencer::default();
        s.plan(&list(0, 2, false));
        let steps = s.plan(&list(5, 2, false));
        assert_eq!(
            steps[0],
            Step::Missed {
                first: 2,
                count: 3,
                seconds: 12.0
            }
        );
        assert_eq!(fetched(&steps), vec![5, 6]);
    }

    #[test]
    fn a_stale_snapshot_changes_nothing() {
        let mut s = Sequencer::default();
        s.plan(&list(20, 5, false));
        assert!(s.plan(&list(19, 5, false)).is_empty());
        assert_eq!(fetched(&s.plan(&list(21, 5, false))), vec![25]);
    }
}
