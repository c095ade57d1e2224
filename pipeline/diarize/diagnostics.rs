//! What the speaker labelling decided, for `scripts/diarize-diagnose`: with
//! `SPACESCRIBE_DIARIZE_DUMP=FILE` set, a run writes its embedding windows and their
//! speakers, every run of the segmentation's local speakers and the speaker it was given,
//! who the segmentation hears frame by frame, the VAD's speech and the quiet pauses, all in
//! seconds and under the speakers' final names (those of the RTTM); with several inputs
//! each overwrites the last one's. The script sets them
//! against a reference RTTM: where missed speech and false alarms come from, how far turn
//! starts and ends are off per speaker, which backchannels were found, named wrong, heard
//! where nobody spoke or missed.
//!
//! Why it is kept: every question about a diarization error so far began by dumping these
//! by hand (README "What was tried").

use std::path::PathBuf;

use serde::Serialize;

use super::chunk_speakers::LocalSpeaker;
use super::resegment::{Heard, RunSpeakers};
use super::turns::FRAME_S;
use super::SpeakerWindow;

/// The environment variable naming the dump file.
const DUMP_VARIABLE: &str = "SPACESCRIBE_DIARIZE_DUMP";

/// Where to write the dump, when asked for.
pub fn dump_path() -> Option<PathBuf> {
    std::env::var_os(DUMP_VARIABLE)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Dump {
    pub windows: Vec<DumpWindow>,
    pub runs: Vec<DumpRun>,
    pub heard: Vec<DumpHeard>,
    pub speech: Vec<(f64, f64)>,
    pub pauses: Vec<(f64, f64)>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct DumpWindow {
    pub start: f64,
    pub end: f64,
    /// The speaker its cluster became (none: a cluster no turn kept).
    pub speaker: Option<String>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct DumpRun {
    /// The segmentation window (numbered over the whole run) and its local speaker.
    pub window: usize,
    pub local: usize,
    pub start: f64,
    pub end: f64,
    /// Heard only under someone else's voice (see `LocalRun::overlapped`).
    pub overlapped: bool,
    pub speaker: Option<String>,
}

/// A stretch of frames the segmentation hears alike.
#[derive(Debug, Serialize, PartialEq)]
pub struct DumpHeard {
    pub start: f64,
    pub end: f64,
    /// "speakers" (none: silence; two: an overlap), "one_of" (the windows dispute who
    /// speaks alone) or "unknown".
    pub kind: &'static str,
    pub speakers: Vec<String>,
}

/// The dump of one run. `labels` are the windows' cluster labels, `map` each label's final
/// speaker (index into `names`); `runs` and `heard` speak of cluster labels too.
#[allow(clippy::too_many_arguments)]
pub fn build(
    windows: &[SpeakerWindow],
    labels: &[usize],
    locals: &[LocalSpeaker],
    runs: &RunSpeakers,
    heard: &[Heard],
    speech: &[(f64, f64)],
    pauses: &[(f64, f64)],
    map: &[Option<usize>],
    names: &[String],
) -> Dump {
    let name = |label: usize| {
        map.get(label)
            .copied()
            .flatten()
            .and_then(|id| names.get(id).cloned())
    };
    let windows = windows
        .iter()
        .zip(labels)
        .map(|(w, &l)| DumpWindow {
            start: w.start,
            end: w.end,
            speaker: name(l),
        })
        .collect();
    let mut local_in_window = 0;
    let mut dumped_runs = Vec::new();
    for (i, (local, assigned)) in locals.iter().zip(runs).enumerate() {
        local_in_window = match i {
            0 => 0,
            _ if locals[i - 1].window == local.window => local_in_window + 1,
            _ => 0,
        };
        for (run, &(first, end, speaker)) in local.runs.iter().zip(assigned) {
            dumped_runs.push(DumpRun {
                window: local.window,
                local: local_in_window,
                start: local.first_frame_s + first as f64 * local.step_s,
                end: local.first_frame_s + end as f64 * local.step_s,
                overlapped: run.overlapped,
                speaker: speaker.and_then(name),
            });
        }
    }
    let mut stretches: Vec<DumpHeard> = Vec::new();
    for (f, h) in heard.iter().enumerate() {
        let (kind, speakers): (&'static str, Vec<String>) = match h {
            Heard::Unknown => ("unknown", Vec::new()),
            Heard::Speakers(s) => ("speakers", s.iter().filter_map(|&l| name(l)).collect()),
            Heard::OneOf(s) => ("one_of", s.iter().filter_map(|&l| name(l)).collect()),
        };
        let start = f as f64 * FRAME_S;
        match stretches.last_mut() {
            Some(last) if last.kind == kind && last.speakers == speakers => {
                last.end = start + FRAME_S;
            }
            _ => stretches.push(DumpHeard {
                start,
                end: start + FRAME_S,
                kind,
                speakers,
            }),
        }
    }
    Dump {
        windows,
        runs: dumped_runs,
        heard: stretches,
        speech: speech.to_vec(),
        pauses: pauses.to_vec(),
    }
}

/// Write the dump to `path`; a failure is said on stderr and does not stop the run (the
/// dump is for diagnosis, the transcript is what was asked for).
pub fn write(path: &std::path::Path, dump: &Dump) {
    let result = serde_json::to_vec(dump)
        .map_err(std::io::Error::from)
        .and_then(|bytes| std::fs::write(path, bytes));
    if let Err(e) = result {
        eprintln!(
            "warning: could not write the diarization dump {}: {e}",
            path.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diarize::chunk_speakers::LocalRun;

    fn local(window: usize, active: &[bool], runs: Vec<LocalRun>) -> LocalSpeaker {
        LocalSpeaker {
            window,
            first_frame_s: 10.0,
            step_s: 0.5,
            active: active.to_vec(),
            embedding: None,
            runs,
            padded_from: None,
        }
    }

    fn run(first: usize, end: usize, overlapped: bool) -> LocalRun {
        LocalRun {
            first,
            end,
            embedding: None,
            overlapped,
            clip: None,
        }
    }

    #[test]
    fn the_dump_speaks_in_seconds_and_final_names() {
        let windows = vec![
            SpeakerWindow {
                start: 10.0,
                end: 11.5,
                embedding: vec![1.0],
            },
            SpeakerWindow {
                start: 10.75,
                end: 12.25,
                embedding: vec![1.0],
            },
        ];
        // Cluster 1 became the first speaker, cluster 0 the second, cluster 2 nobody.
        let map = vec![Some(1), Some(0), None];
        let names = vec!["Ana".to_string(), "Ben".to_string()];
        let locals = vec![
            local(0, &[true, true, false, false], vec![run(0, 2, false)]),
            local(0, &[false, true, true, false], vec![run(1, 3, true)]),
            local(1, &[true, false, false, false], vec![run(0, 1, false)]),
        ];
        let runs: RunSpeakers = vec![
            vec![(0, 2, Some(1))],
            vec![(1, 3, Some(0))],
            vec![(0, 1, Some(2))],
        ];
        let heard = vec![
            Heard::Speakers(vec![1]),
            Heard::Speakers(vec![1]),
            Heard::Speakers(vec![0, 1]),
            Heard::OneOf(vec![0, 1]),
            Heard::Unknown,
        ];
        let dump = build(
            &windows,
            &[1, 0],
            &locals,
            &runs,
            &heard,
            &[(10.0, 12.0)],
            &[(11.0, 11.2)],
            &map,
            &names,
        );
        assert_eq!(dump.windows[0].speaker.as_deref(), Some("Ana"));
        assert_eq!(dump.windows[1].speaker.as_deref(), Some("Ben"));
        let r = &dump.runs[1];
        assert_eq!((r.window, r.local, r.overlapped), (0, 1, true));
        assert_eq!((r.start, r.end), (10.5, 11.5));
        assert_eq!(r.speaker.as_deref(), Some("Ben"));
        // A new window numbers its local speakers from 0 again; a cluster nobody became
        // names no one.
        assert_eq!((dump.runs[2].window, dump.runs[2].local), (1, 0));
        assert_eq!(dump.runs[2].speaker, None);
        // Equal frames are one stretch.
        let kinds: Vec<(&str, usize)> = dump
            .heard
            .iter()
            .map(|h| (h.kind, h.speakers.len()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("speakers", 1),
                ("speakers", 2),
                ("one_of", 2),
                ("unknown", 0)
            ]
        );
        assert!((dump.heard[0].end - 0.02).abs() < 1e-9);
        assert_eq!(dump.heard[0].speakers, vec!["Ana".to_string()]);
    }
}
