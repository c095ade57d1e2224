//! Output files, one format per file in this directory. Every writer writes into any
//! `io::Write` (tested against expected strings); `write_outputs` puts them on disk
//! atomically: a temporary file in the target directory, renamed when complete, so a
//! crash, Ctrl-C or full disk never leaves a half-written file under the final name.

pub mod docx;
pub mod html;
pub mod json;
pub mod rttm;
pub mod srt;
pub mod stats_files;
pub mod txt;
pub mod vtt;

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::document::RunDocument;
use crate::stats::{compute_stats, ConversationStats};
use crate::transcript::Transcript;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Txt,
    Srt,
    Vtt,
    Json,
    Rttm,
    StatsJson,
    StatsCsv,
    Html,
    Docx,
}

/// What a writer may need besides the transcript.
pub struct WriteContext<'a> {
    pub transcript: &'a Transcript,
    /// The whole run (the JSON writes all of it: audio path, outputs, edit history).
    pub doc: &'a RunDocument,
    /// The input's file stem (RTTM's recording id, the report's title).
    pub stem: &'a str,
    pub stats: &'a ConversationStats,
    /// How the HTML report reaches the recording.
    pub report_audio: &'a ReportAudio,
}

/// The HTML report's player: none, a link relative to the report, or the audio itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum ReportAudio {
    #[default]
    None,
    /// A URL relative to the report's folder (`interview.m4a`, `../rec/interview.m4a`).
    Linked(String),
    /// A compact copy inside the page, as a `data:` URL.
    Embedded(String),
}

impl Format {
    pub const ALL: &'static [Format] = &[
        Format::Txt,
        Format::Srt,
        Format::Vtt,
        Format::Json,
        Format::Rttm,
        Format::StatsJson,
        Format::StatsCsv,
        Format::Html,
        Format::Docx,
    ];

    /// File name suffix after the input's stem.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Txt => "txt",
            Format::Srt => "srt",
            Format::Vtt => "vtt",
            Format::Json => "json",
            Format::Rttm => "rttm",
            Format::StatsJson => "stats.json",
            Format::StatsCsv => "stats.csv",
            Format::Html => "html",
            Format::Docx => "docx",
        }
    }

    /// Formats that only exist with speaker labels.
    pub fn needs_speakers(self) -> bool {
        matches!(
            self,
            Format::Rttm | Format::StatsJson | Format::StatsCsv | Format::Html | Format::Docx
        )
    }

    fn write(self, w: &mut dyn Write, c: &WriteContext) -> io::Result<()> {
        let t = c.transcript;
        match self {
            Format::Txt => txt::write_txt(w, t),
            Format::Srt => srt::write_srt(w, t),
            Format::Vtt => vtt::write_vtt(w, t),
            Format::Json => json::write_json(w, c.doc),
            Format::Rttm => rttm::write_rttm(w, t, c.stem),
            Format::StatsJson => stats_files::write_stats_json(w, c.stats),
            Format::StatsCsv => stats_files::write_stats_csv(w, c.stats),
            Format::Html => html::write_html(w, t, c.stats, c.stem, c.report_audio),
            Format::Docx => docx::write_docx(w, t, c.stats, c.stem),
        }
    }
}

/// `--formats txt,srt` or `all`.
pub fn parse_formats(list: &str) -> Result<Vec<Format>> {
    let mut out = Vec::new();
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if name == "all" {
            out.extend_from_slice(Format::ALL);
            continue;
        }
        match Format::ALL.iter().find(|f| f.extension() == name) {
            Some(f) => out.push(*f),
            None => bail!(
                "unknown output format '{name}' (choose from {}, or all)",
                Format::ALL
                    .iter()
                    .map(|f| f.extension())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
    out.dedup();
    if out.is_empty() {
        bail!("--formats is empty");
    }
    Ok(out)
}

/// Write `<dir>/<stem>.<ext>` for each format; returns the paths written. All or
/// nothing: every file is written in full beside its place first and only then renamed
/// into it, so a failure (a full disk, a writer's error) leaves the old outputs as a set.
pub fn write_outputs(
    dir: &Path,
    stem: &str,
    doc: &RunDocument,
    formats: &[Format],
    report_audio: &ReportAudio,
) -> Result<Vec<PathBuf>> {
    let t = &doc.transcript;
    let stats = compute_stats(t);
    let context = WriteContext {
        transcript: t,
        doc,
        stem,
        stats: &stats,
        report_audio,
    };
    let mut ready = Vec::with_capacity(formats.len());
    for &format in formats {
        let path = dir.join(format!("{stem}.{}", format.extension()));
        let file = write_beside(&path, |w| format.write(w, &context))
            .with_context(|| format!("cannot write {}", path.display()))?;
        ready.push((file, path));
    }
    let mut written = Vec::with_capacity(ready.len());
    for (file, path) in ready {
        file.persist(&path)
            .map_err(|e| e.error)
            .with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// `a.txt, a.json, ...`: the files written, for the line that reports them.
pub fn path_list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// "1 speaker", "3 speakers": a count with its noun, for the lines people read.
pub fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Write through a temporary file next to `path`, then rename it into place.
pub fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    write_beside(path, fill)?
        .persist(path)
        .map_err(|e| e.error)?;
    Ok(())
}

/// Remove the temporary files a killed run left for the outputs of `stem` in `dir` (a
/// kill -9 while writing skips the clean-up a normal failure does).
pub fn remove_stale_temp_files(dir: &Path, stem: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let ours = |name: &str| {
        Format::ALL.iter().any(|f| {
            // Exactly `.<stem>.<ext>.` + tempfile's 6 random characters + `.tmp`.
            name.strip_prefix(&format!(".{stem}.{}.", f.extension()))
                .and_then(|rest| rest.strip_suffix(".tmp"))
                .is_some_and(|random| {
                    random.len() == 6 && random.chars().all(|c| c.is_ascii_alphanumeric())
                })
        })
    };
    for entry in entries.flatten() {
        if ours(&entry.file_name().to_string_lossy()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// `path`'s future contents, complete and on disk in a temporary file beside it (removed
/// if dropped); `persist(path)` puts it in place.
fn write_beside(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<tempfile::NamedTempFile> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // `.<name>.XXXXXX.tmp`: hidden, and named after its output, so a run can clear what a
    // killed run of the same input left behind (`remove_stale_temp_files`).
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    {
        let mut w = BufWriter::new(tmp.as_file());
        fill(&mut w)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    // Temporary files are created private (0600); outputs are for sharing.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    Ok(tmp)
}

/// `hh:mm:ss<sep>mmm`, as SRT (`,`) and WebVTT (`.`) want.
pub fn timestamp_ms(seconds: f64, sep: char) -> String {
    let ms = (seconds.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}{sep}{:03}",
        ms / 3_600_000,
        (ms / 60_000) % 60,
        (ms / 1000) % 60,
        ms % 1000
    )
}

#[cfg(test)]
pub(crate) mod fixtures {
    use crate::transcript::{Segment, SpeakerTurn, Transcript, Word};

    pub fn word(w: &str, start: f64, end: f64, speaker: Option<usize>) -> Word {
        Word {
            word: w.into(),
            start,
            end,
            probability: 0.9,
            speaker,
        }
    }

    /// The two-segment transcript with a speaker turn under each segment.
    pub fn transcript_with_turns() -> Transcript {
        let mut t = transcript(true);
        t.turns = vec![
            SpeakerTurn {
                start: 0.5,
                end: 2.25,
                speaker: 0,
            },
            SpeakerTurn {
                start: 3723.0,
                end: 3724.5,
                speaker: 1,
            },
        ];
        t
    }

    /// Two segments; with `speakers`, the second belongs to a named guest.
    pub fn transcript(speakers: bool) -> Transcript {
        let s = |id| speakers.then_some(id);
        Transcript {
            language: "en".into(),
            duration: 3725.0,
            segments: vec![
                Segment {
                    start: 0.5,
                    end: 2.25,
                    text: "Hello there.".into(),
                    words: vec![
                        word("Hello", 0.5, 1.0, s(0)),
                        word("there.", 1.1, 2.25, s(0)),
                    ],
                    speaker: s(0),
                    avg_logprob: -0.1,
                    no_speech_prob: 0.0,
                    language: None,
                },
                Segment {
                    start: 3723.0,
                    end: 3724.5,
                    text: "Bye <now> & \"go\"".into(),
                    words: vec![word("Bye", 3723.0, 3723.4, s(1))],
                    speaker: s(1),
                    avg_logprob: -0.1,
                    no_speech_prob: 0.0,
                    language: None,
                },
            ],
            speakers: if speakers {
                vec!["SPEAKER_00".into(), "Ana".into()]
            } else {
                vec![]
            },
            turns: vec![],
            gaps: vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_speaker_is_not_one_speakers() {
        assert_eq!(counted(1, "speaker"), "1 speaker");
        assert_eq!(counted(0, "segment"), "0 segments");
        assert_eq!(counted(4, "speaker"), "4 speakers");
    }

    #[test]
    fn formats_parse_and_reject_unknown_names() {
        assert_eq!(
            parse_formats("txt, json").unwrap(),
            vec![Format::Txt, Format::Json]
        );
        assert_eq!(parse_formats("all").unwrap(), Format::ALL.to_vec());
        let e = parse_formats("txt,pdf").unwrap_err().to_string();
        assert!(e.contains("unknown output format 'pdf'"), "{e}");
    }

    #[test]
    fn timestamps_round_to_milliseconds() {
        assert_eq!(timestamp_ms(3725.0005, ','), "01:02:05,001");
        assert_eq!(timestamp_ms(0.0, '.'), "00:00:00.000");
    }

    #[test]
    fn outputs_are_written_whole_and_no_temp_files_remain() {
        let dir = tempfile::tempdir().unwrap();
        let doc = RunDocument::new(fixtures::transcript(false), None, Format::ALL.to_vec());
        let paths =
            write_outputs(dir.path(), "talk", &doc, Format::ALL, &ReportAudio::None).unwrap();
        assert_eq!(paths.len(), Format::ALL.len());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), Format::ALL.len(), "{names:?}");
        assert!(names.iter().all(|n| !n.ends_with(".tmp")));
    }

    #[test]
    fn stale_temp_files_of_one_stem_are_cleared_and_no_others() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            ".talk.json.a1B2c3.tmp",
            ".talk.docx.zzzzzz.tmp",
            ".talk.part2.json.a1B2c3.tmp",
            ".talk.json.toolong1.tmp",
            "talk.json",
        ] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        remove_stale_temp_files(dir.path(), "talk");
        let mut left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                ".talk.json.toolong1.tmp",
                ".talk.part2.json.a1B2c3.tmp",
                "talk.json"
            ]
        );
    }

    #[test]
    fn a_failing_writer_leaves_no_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.txt");
        let r = write_atomically(&path, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        });
        assert!(r.is_err());
        assert!(!path.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
