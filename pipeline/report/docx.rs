//! The transcript as a Word document, because newsrooms edit in Word: the title, the
//! report's headline, the per-speaker statistics table (the HTML report's columns) and the
//! labelled transcript, one paragraph per segment `[hh:mm:ss] NAME: text` with the name bold.
//!
//! Built with the `docx-rs` crate rather than hand-written XML. The file must be
//! byte-for-byte the same every time the same transcript is written (`rebuild` reproduces a
//! run's outputs exactly, and `review` regenerates them on every edit), so three things
//! docx-rs would otherwise vary are pinned:
//! - `docProps/core.xml` dates: docx-rs writes 1970-01-01 unless told otherwise; we say so
//!   explicitly rather than rely on that default;
//! - zip entry times: docx-rs's `zip` is built without its `time` feature, so entries carry
//!   the fixed DOS epoch (1980-01-01); a test checks this stays true;
//! - paragraph ids (`w14:paraId`): docx-rs numbers paragraphs from a per-thread counter that
//!   keeps running across documents, so the second document a process writes would differ
//!   from the first; every paragraph here gets an explicit id counted from 1 instead.

use std::io::{self, Cursor, Write};

use docx_rs::{
    AlignmentType, Docx, Paragraph, Run, RunFonts, Style, StyleType, Table, TableCell,
    TableLayoutType, TableRow, WidthType,
};

use crate::report::html::{headline, stats_cells, totals_line, STATS_COLUMNS};
use crate::stats::{ConversationStats, SpeakerStats};
use crate::timefmt::hms;
use crate::transcript::Transcript;

/// The date written as the document's created/modified time: fixed, so output is
/// reproducible (the run's real time is in its JSON, not here).
const FIXED_DATE: &str = "1970-01-01T00:00:00Z";

/// Column widths in twentieths of a point: the name wider, the numbers narrow, about the
/// text width of an A4 or Letter page with default margins.
const SPEAKER_COLUMN: usize = 1500;
const NUMBER_COLUMN: usize = 710;

/// Grey for the time stamps, as in the HTML report.
const TIME_COLOUR: &str = "8A939C";

pub fn write_docx(
    w: &mut dyn Write,
    t: &Transcript,
    s: &ConversationStats,
    title: &str,
) -> io::Result<()> {
    let mut ids = ParagraphIds::default();
    let mut doc = Docx::new()
        .created_at(FIXED_DATE)
        .updated_at(FIXED_DATE)
        .default_fonts(RunFonts::new().ascii("Calibri").hi_ansi("Calibri"))
        .default_size(22)
        .add_style(
            Style::new("Title", StyleType::Paragraph)
                .name("Title")
                .size(40)
                .bold(),
        )
        .add_style(
            Style::new("Heading1", StyleType::Paragraph)
                .name("Heading 1")
                .size(28)
                .bold(),
        )
        .add_paragraph(ids.text(title).style("Title"))
        .add_paragraph(
            ids.next()
                .add_run(Run::new().add_text(headline(s)).bold().size(28)),
        )
        .add_paragraph(ids.next().add_run(Run::new().add_text(sub_line(s))))
        .add_paragraph(ids.text("Per speaker").style("Heading1"))
        .add_table(stats_table(s, &mut ids))
        .add_paragraph(
            ids.next()
                .add_run(Run::new().add_text(totals_line(s)).size(18)),
        )
        .add_paragraph(ids.text("Transcript").style("Heading1"));
    for seg in &t.segments {
        let mut p = ids.next().add_run(
            Run::new()
                .add_text(format!("[{}] ", hms(seg.start)))
                .color(TIME_COLOUR),
        );
        if let Some(id) = seg.speaker {
            p = p
                .add_run(Run::new().add_text(xml_safe(&t.speaker_name(id))).bold())
                .add_run(Run::new().add_text(": "));
        }
        doc = doc.add_paragraph(p.add_run(Run::new().add_text(xml_safe(&seg.text))));
    }
    // docx-rs packs into a seekable writer; the outputs are streamed, so pack in memory.
    let mut zip = Cursor::new(Vec::new());
    doc.build().pack(&mut zip).map_err(io::Error::other)?;
    w.write_all(zip.get_ref())
}

/// "01:02:05 recorded · 00:58:10 of speech · 3 speakers · 00:01:12 with people talking at
/// once", as under the HTML report's headline.
fn sub_line(s: &ConversationStats) -> String {
    format!(
        "{} recorded · {} of speech · {} · {} with people talking at once",
        hms(s.duration_s),
        hms(s.speech_s),
        super::counted(s.num_speakers, "speaker"),
        hms(s.overlap_s)
    )
}

/// One row's cells, formatted as the HTML report formats them.
fn stats_row(p: &SpeakerStats) -> [String; 12] {
    stats_cells(p).map(|c| xml_safe(&c))
}

fn stats_table(s: &ConversationStats, ids: &mut ParagraphIds) -> Table {
    let header = STATS_COLUMNS.map(str::to_string);
    let rows = std::iter::once((header, true))
        .chain(s.speakers.iter().map(|p| (stats_row(p), false)))
        .map(|(cells, is_header)| {
            let cells = cells
                .into_iter()
                .enumerate()
                .map(|(col, text)| {
                    let mut run = Run::new().add_text(text).size(18);
                    if is_header {
                        run = run.bold();
                    }
                    let align = if col == 0 {
                        AlignmentType::Left
                    } else {
                        AlignmentType::Right
                    };
                    TableCell::new()
                        .width(column_width(col), WidthType::Dxa)
                        .add_paragraph(ids.next().add_run(run).align(align))
                })
                .collect();
            TableRow::new(cells)
        })
        .collect();
    Table::new(rows)
        .set_grid((0..STATS_COLUMNS.len()).map(column_width).collect())
        .layout(TableLayoutType::Fixed)
}

fn column_width(col: usize) -> usize {
    if col == 0 {
        SPEAKER_COLUMN
    } else {
        NUMBER_COLUMN
    }
}

/// Explicit paragraph ids, 1, 2, 3... in document order (see the module comment).
#[derive(Default)]
struct ParagraphIds(u32);

impl ParagraphIds {
    fn next(&mut self) -> Paragraph {
        self.0 += 1;
        Paragraph::new().id(format!("{:08X}", self.0))
    }

    fn text(&mut self, text: &str) -> Paragraph {
        self.next().add_run(Run::new().add_text(xml_safe(text)))
    }
}

/// Drop the characters XML 1.0 cannot hold at all (control characters other than tab and
/// line breaks); docx-rs escapes the rest. Transcribed text should not contain them, but a
/// speaker name typed in `review` might, and Word refuses the whole file over one.
fn xml_safe(s: &str) -> String {
    s.chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{transcript, transcript_with_turns};
    use crate::stats::compute_stats;
    use std::io::Read;

    fn docx_bytes(t: &Transcript, title: &str) -> Vec<u8> {
        let mut out = Vec::new();
        write_docx(&mut out, t, &compute_stats(t), title).unwrap();
        out
    }

    fn part(docx: &[u8], name: &str) -> String {
        let mut zip = zip::ZipArchive::new(Cursor::new(docx)).unwrap();
        let mut text = String::new();
        zip.by_name(name)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        text
    }

    #[test]
    fn the_same_transcript_gives_the_same_bytes() {
        let t = transcript_with_turns();
        let first = docx_bytes(&t, "talk");
        // Another document in between moves docx-rs's own paragraph counter on.
        docx_bytes(&transcript(false), "other");
        let second = docx_bytes(&t, "talk");
        assert!(first == second, "two writes of one transcript differ");
        // And on another thread (docx-rs's counter is per thread).
        let third = std::thread::spawn(move || docx_bytes(&t, "talk"))
            .join()
            .unwrap();
        assert!(first == third, "a write on another thread differs");
    }

    #[test]
    fn no_clock_time_gets_into_the_file() {
        let docx = docx_bytes(&transcript_with_turns(), "talk");
        let mut zip = zip::ZipArchive::new(Cursor::new(&docx)).unwrap();
        for i in 0..zip.len() {
            let entry = zip.by_index(i).unwrap();
            let when = entry.last_modified().unwrap();
            assert_eq!(
                (when.year(), when.month(), when.day()),
                (1980, 1, 1),
                "{:?} carries a clock time",
                entry.name()
            );
        }
        let core = part(&docx, "docProps/core.xml");
        assert!(core.contains(FIXED_DATE), "{core}");
    }

    #[test]
    fn document_holds_headline_table_and_labelled_transcript() {
        let mut t = transcript_with_turns();
        t.speakers[1] = "Ana <Guest>".into();
        let s = compute_stats(&t);
        let docx = docx_bytes(&t, "talk");
        let xml = part(&docx, "word/document.xml");
        let escaped = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        assert!(xml.contains(">talk<"), "title missing");
        assert!(xml.contains(&escaped(&headline(&s))), "headline missing");
        for column in STATS_COLUMNS {
            assert!(xml.contains(&format!(">{column}<")), "{column} missing");
        }
        assert!(xml.contains(">SPEAKER_00<") && xml.contains(">Ana &lt;Guest&gt;<"));
        // The second segment's line: time, bold name, text.
        let line = xml
            .find(">[01:02:03] <")
            .expect("time stamp of the last line");
        let rest = &xml[line..];
        let name = rest.find(">Ana &lt;Guest&gt;<").unwrap();
        assert!(rest[..name].contains("<w:b />") || rest[..name].contains("<w:b/>"));
        assert!(
            rest.contains(">Bye &lt;now&gt; &amp; &quot;go&quot;<"),
            "{rest}"
        );
    }

    #[test]
    fn plain_transcript_lines_have_no_name() {
        let docx = docx_bytes(&transcript(false), "talk");
        let xml = part(&docx, "word/document.xml");
        assert!(xml.contains(">[00:00:00] <"));
        assert!(xml.contains(">Hello there.<"));
        assert!(!xml.contains(": <"));
    }

    #[test]
    fn characters_xml_cannot_hold_are_dropped() {
        assert_eq!(xml_safe("a\u{1}b\tc\u{FFFF}"), "ab\tc");
    }
}
