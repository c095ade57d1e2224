//! The report a reporter opens: one self-contained HTML file (inline CSS and SVG, no
//! scripts, fonts or network) with the headline - who dominated and by how much - a bar of
//! each speaker's share, a timeline of turns, the statistics table and the labelled
//! transcript.

use std::fmt::Write as _;
use std::io::{self, Write};

use crate::report::ReportAudio;
use crate::stats::{ConversationStats, SpeakerStats, DEFINITIONS};
use crate::timefmt::hms;
use crate::transcript::Transcript;

const COLOURS: &[&str] = &[
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22",
];

pub fn colour(id: usize) -> &'static str {
    COLOURS[id % COLOURS.len()]
}

/// Escape text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// The per-speaker table's columns; the Word report has the same table.
pub const STATS_COLUMNS: [&str; 12] = [
    "Speaker",
    "Talk time",
    "Share",
    "Turns",
    "Mean turn",
    "Longest turn",
    "Words",
    "Words/min",
    "Interrupted others",
    "Was interrupted",
    "Backchannels",
    "Overlap",
];

/// One speaker's cells under `STATS_COLUMNS`, as plain text.
pub fn stats_cells(p: &SpeakerStats) -> [String; 12] {
    [
        p.name.clone(),
        hms(p.talk_s),
        pct(p.share),
        p.turns.to_string(),
        format!("{:.1} s", p.mean_turn_s),
        format!("{:.1} s at {}", p.longest_turn_s, hms(p.longest_turn_start)),
        p.words.to_string(),
        format!("{:.0}", p.words_per_minute),
        p.interruptions_made.to_string(),
        p.interruptions_suffered.to_string(),
        p.backchannels.to_string(),
        format!("{:.1} s", p.overlap_s),
    ]
}

/// "Silence: ... · overlap: ... · definitions: ...", under the table.
pub fn totals_line(s: &ConversationStats) -> String {
    format!(
        "Silence: {} · overlap: {} · definitions: {}",
        hms(s.silence_s),
        hms(s.overlap_s),
        DEFINITIONS
    )
}

/// "SPEAKER_00 spoke 62% of the time, 2.4× as much as SPEAKER_01."
pub fn headline(s: &ConversationStats) -> String {
    let Some(d) = &s.dominant else {
        return "Nobody spoke in this recording.".to_string();
    };
    // The runner-up among the others (on a tie of rounded talk times, sorting alone could
    // put the dominant speaker second and name them twice).
    let next = s
        .speakers
        .iter()
        .filter(|p| p.talk_s > 0.0 && p.name != d.name)
        .max_by(|a, b| a.talk_s.total_cmp(&b.talk_s));
    match (d.ratio_to_next, next) {
        (Some(r), Some(next)) => format!(
            "{} dominated: {} of the speaking time, {:.1}× as much as {} ({}).",
            d.name,
            pct(d.share),
            r,
            next.name,
            pct(next.share)
        ),
        _ => format!("{} did all the talking.", d.name),
    }
}

/// The report's stylesheet (the review page uses it too, so both look alike).
pub const REPORT_CSS: &str = r#"body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #1d2329; margin: 0; background: #f6f7f9; }
main { max-width: 1100px; margin: 0 auto; padding: 28px 32px 60px; background: #fff; }
h1 { font-size: 15px; font-weight: 600; color: #5b6570; margin: 0 0 6px; text-transform: uppercase; letter-spacing: .04em; }
.headline { font-size: 28px; line-height: 1.25; font-weight: 700; margin: 0 0 8px; }
.sub { color: #5b6570; margin: 0 0 24px; }
h2 { font-size: 18px; margin: 32px 0 10px; border-bottom: 1px solid #e3e6ea; padding-bottom: 4px; }
.share { display: flex; height: 34px; border-radius: 6px; overflow: hidden; }
.share div { color: #fff; font-weight: 600; font-size: 13px; display: flex; align-items: center; padding-left: 8px; white-space: nowrap; overflow: hidden; }
.legend span { display: inline-block; margin: 8px 16px 0 0; font-size: 13px; }
.dot { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: right; padding: 6px 8px; border-bottom: 1px solid #eceef1; }
th:first-child, td:first-child { text-align: left; }
th { font-weight: 600; color: #5b6570; font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
.transcript p { margin: 0 0 8px; }
.ts { color: #8a939c; font-variant-numeric: tabular-nums; margin-right: 8px; }
.who { font-weight: 700; margin-right: 6px; }
.lang { font-size: 0.75em; text-transform: uppercase; color: #5b6570; border: 1px solid #c9d0d6; border-radius: 3px; padding: 0 3px; margin-right: 6px; }
svg text { font: 11px system-ui, sans-serif; fill: #5b6570; }
.totals { color: #5b6570; font-size: 14px; }
@media print { body { background: #fff; } main { padding: 0; } .transcript p { break-inside: avoid; } }
"#;

/// What the player adds to the stylesheet: only written when the report has audio, so a
/// report without it is exactly what it was before the player existed.
const PLAYER_CSS: &str = r#".player { position: sticky; top: 0; z-index: 1; background: #fff; padding: 8px 0; margin: 0 0 16px; border-bottom: 1px solid #e3e6ea; }
.player audio { display: block; width: 100%; }
.player .note { color: #8a4b00; font-size: 13px; margin: 4px 0 0; }
.transcript p[data-t] { cursor: pointer; border-radius: 4px; margin-left: -4px; padding: 0 4px; }
.transcript p[data-t]:hover { background: #f1f3f5; }
.transcript p.now { background: #fff4cc; }
@media print { .player { display: none; } }
"#;

/// Click a line to hear it; the line being heard is marked. No network, no libraries: the
/// page must work from a USB stick. A linked recording that is missing (the report was
/// moved without it) fires the audio element's error event and the note says why.
const PLAYER_JS: &str = r#"(function () {
  var audio = document.getElementById("audio");
  var lines = Array.prototype.slice.call(document.querySelectorAll(".transcript p[data-t]"));
  var starts = lines.map(function (p) { return parseFloat(p.getAttribute("data-t")); });
  var current = null;
  function mark(line) {
    if (line === current) return;
    if (current) current.classList.remove("now");
    if (line) line.classList.add("now");
    current = line;
  }
  function follow() {
    var lo = 0, hi = starts.length - 1, k = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (starts[mid] <= audio.currentTime + 0.05) { k = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    mark(k >= 0 ? lines[k] : null);
  }
  document.querySelector(".transcript").addEventListener("click", function (e) {
    var line = e.target.closest("p[data-t]");
    if (!line || String(window.getSelection())) return;
    audio.currentTime = parseFloat(line.getAttribute("data-t"));
    mark(line);
    var playing = audio.play();
    if (playing && playing.catch) playing.catch(function () {});
  });
  audio.addEventListener("timeupdate", follow);
  audio.addEventListener("seeked", follow);
  function unplayable() { document.getElementById("audio-note").hidden = false; }
  if (audio.error) unplayable();
  audio.addEventListener("error", unplayable);
})();
"#;

pub fn write_html(
    w: &mut dyn Write,
    t: &Transcript,
    s: &ConversationStats,
    title: &str,
    audio: &ReportAudio,
) -> io::Result<()> {
    let src = match audio {
        ReportAudio::None => None,
        ReportAudio::Linked(url) | ReportAudio::Embedded(url) => Some(url.as_str()),
    };
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{} - who spoke when</title>
<style>
{REPORT_CSS}"#,
        escape(title)
    );
    if src.is_some() {
        h.push_str(PLAYER_CSS);
    }
    h.push_str("</style></head><body><main>\n");
    if let Some(src) = src {
        h.push_str(&player_html(src, audio));
    }
    h.push_str(&summary_html(t, s, title));
    h.push_str(&transcript_html(t, src.is_some()));
    h.push_str("<p class=\"totals\">Made by spacescribe.</p>\n</main>");
    if src.is_some() {
        let _ = write!(h, "<script>\n{PLAYER_JS}</script>");
    }
    h.push_str("</body></html>\n");
    w.write_all(h.as_bytes())
}

/// The sticky player, and the note shown when the recording cannot be loaded.
fn player_html(src: &str, audio: &ReportAudio) -> String {
    let why = match audio {
        ReportAudio::Linked(_) => format!(
            "The recording ({}) could not be loaded: it may have moved, or this browser cannot play its format (spacescribe transcribe --embed-audio puts a playable copy inside the report).",
            escape(&link_label(src))
        ),
        _ => "This browser cannot play the recording embedded in this report.".to_string(),
    };
    format!(
        "<div class=\"player\"><audio id=\"audio\" controls preload=\"metadata\" src=\"{}\"></audio><p class=\"note\" id=\"audio-note\" hidden>{why}</p></div>\n",
        escape(src)
    )
}

/// A linked recording's name as a reader knows it: the URL's last segment, decoded.
fn link_label(url: &str) -> String {
    let name = url.rsplit('/').next().unwrap_or(url);
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Everything of the report but the transcript: headline, the line under it, the share
/// bar and legend, the timeline, the per-speaker table and the totals.
pub fn summary_html(t: &Transcript, s: &ConversationStats, title: &str) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<h1>{title}</h1>
<p class="headline">{headline}</p>
<p class="sub">{dur} recorded · {speech} of speech · {n} · {overlap} with people talking at once</p>
"#,
        title = escape(title),
        headline = escape(&headline(s)),
        dur = hms(s.duration_s),
        speech = hms(s.speech_s),
        n = super::counted(s.num_speakers, "speaker"),
        overlap = hms(s.overlap_s),
    );

    // Share bar.
    h.push_str("<h2>Share of speaking time</h2>\n<div class=\"share\">");
    let share_total: f64 = s.speakers.iter().map(|p| p.talk_s).sum();
    for (i, p) in s
        .speakers
        .iter()
        .enumerate()
        .filter(|(_, p)| p.talk_s > 0.0)
    {
        let _ = write!(
            h,
            r#"<div style="width:{:.3}%;background:{}" title="{}: {}">{} {}</div>"#,
            100.0 * p.talk_s / share_total.max(1e-9),
            colour(i),
            escape(&p.name),
            pct(p.share),
            escape(&p.name),
            pct(p.share)
        );
    }
    h.push_str("</div>\n<div class=\"legend\">");
    for (i, p) in s.speakers.iter().enumerate() {
        let _ = write!(
            h,
            r#"<span><i class="dot" style="background:{}"></i>{} {} ({})</span>"#,
            colour(i),
            escape(&p.name),
            pct(p.share),
            hms(p.talk_s)
        );
    }
    h.push_str("</div>\n");

    // Timeline: one lane per speaker.
    let (width, lane, left) = (1000.0, 26.0, 120.0);
    let plot = width - left - 10.0;
    let dur = s.duration_s.max(1e-9);
    let height = lane * s.speakers.len() as f64 + 30.0;
    let _ = write!(
        h,
        r#"<h2>Who spoke when</h2>
<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="timeline of speaker turns">
"#
    );
    for (i, p) in s.speakers.iter().enumerate() {
        let y = i as f64 * lane;
        let _ = writeln!(
            h,
            r##"<rect x="{left}" y="{:.1}" width="{plot}" height="{:.1}" fill="#f1f3f5"/><text x="0" y="{:.1}">{}</text>"##,
            y + 4.0,
            lane - 8.0,
            y + lane / 2.0 + 4.0,
            escape(&p.name)
        );
    }
    for turn in &t.turns {
        let x = left + plot * turn.start / dur;
        let wdt = (plot * (turn.end - turn.start) / dur).max(0.5);
        let y = turn.speaker as f64 * lane + 4.0;
        let _ = writeln!(
            h,
            r#"<rect x="{x:.2}" y="{y:.1}" width="{wdt:.2}" height="{:.1}" fill="{}" fill-opacity="0.85"><title>{} {}–{}</title></rect>"#,
            lane - 8.0,
            colour(turn.speaker),
            escape(&t.speaker_name(turn.speaker)),
            hms(turn.start),
            hms(turn.end)
        );
    }
    let ticks = 6;
    for k in 0..=ticks {
        let sec = dur * k as f64 / ticks as f64;
        let x = left + plot * k as f64 / ticks as f64;
        let anchor = if k == 0 {
            "start"
        } else if k == ticks {
            "end"
        } else {
            "middle"
        };
        let _ = writeln!(
            h,
            r#"<text x="{x:.1}" y="{:.1}" text-anchor="{anchor}">{}</text>"#,
            height - 6.0,
            hms(sec)
        );
    }
    h.push_str("</svg>\n");

    // Table.
    h.push_str("<h2>Per speaker</h2>\n<table><thead><tr>");
    for c in STATS_COLUMNS {
        let _ = write!(h, "<th>{c}</th>");
    }
    h.push_str("</tr></thead><tbody>\n");
    for (i, p) in s.speakers.iter().enumerate() {
        let cells = stats_cells(p);
        let _ = write!(
            h,
            r#"<tr><td><i class="dot" style="background:{}"></i>{}</td>"#,
            colour(i),
            escape(&cells[0])
        );
        for c in &cells[1..] {
            let _ = write!(h, "<td>{}</td>", escape(c));
        }
        h.push_str("</tr>\n");
    }
    let _ = writeln!(
        h,
        "</tbody></table>\n<p class=\"totals\">{}</p>",
        escape(&totals_line(s))
    );

    h
}

/// The labelled transcript; with a player, each line carries its start time (`data-t`,
/// seconds) for click-to-play.
fn transcript_html(t: &Transcript, with_times: bool) -> String {
    let mut h = String::from("<h2>Transcript</h2>\n<div class=\"transcript\">\n");
    for seg in &t.segments {
        if with_times {
            let _ = write!(h, r#"<p data-t="{:.3}">"#, seg.start.max(0.0));
        } else {
            h.push_str("<p>");
        }
        let _ = write!(h, r#"<span class="ts">{}</span>"#, hms(seg.start));
        if let Some(id) = seg.speaker {
            let _ = write!(
                h,
                r#"<span class="who" style="color:{}">{}</span>"#,
                colour(id),
                escape(&t.speaker_name(id))
            );
        }
        let text = escape(&seg.text);
        let _ = match &seg.language {
            // Marked for the reader, and for the browser (fonts, reading aloud, translation).
            Some(lang) => {
                let lang = escape(lang);
                writeln!(
                    h,
                    r#"<span class="lang">{lang}</span><span lang="{lang}">{text}</span></p>"#
                )
            }
            None => writeln!(h, "{text}</p>"),
        };
    }
    h.push_str("</div>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{transcript, transcript_with_turns};
    use crate::stats::compute_stats;

    #[test]
    fn headline_table_and_escaped_transcript() {
        let mut t = transcript_with_turns();
        t.speakers[1] = "Ana <script>".into();
        let s = compute_stats(&t);
        let mut out = Vec::new();
        write_html(&mut out, &t, &s, "talk", &ReportAudio::None).unwrap();
        let html = String::from_utf8(out).unwrap();
        assert!(html.contains("SPEAKER_00 dominated: 54% of the speaking time, 1.2× as much as Ana &lt;script&gt; (46%)."), "{}", headline(&s));
        assert!(!html.contains("<script>"));
        assert!(html.contains("Bye &lt;now&gt; &amp; &quot;go&quot;"));
        assert!(html.contains("<table>"));
        assert!(!html.contains("http"), "the page must not load anything");
        assert!(!html.contains("<audio") && !html.contains("data-t="));
        assert!(!html.contains("<script"), "no player, no script");
    }

    fn report(audio: &ReportAudio) -> String {
        let t = transcript(true);
        let mut out = Vec::new();
        write_html(&mut out, &t, &compute_stats(&t), "talk", audio).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_line_in_another_language_is_marked_with_it() {
        let mut t = transcript(true);
        t.segments[1].language = Some("de".into());
        let mut out = Vec::new();
        write_html(&mut out, &t, &compute_stats(&t), "talk", &ReportAudio::None).unwrap();
        let html = String::from_utf8(out).unwrap();
        assert!(html.contains(
            r#"<span class="lang">de</span><span lang="de">Bye &lt;now&gt; &amp; &quot;go&quot;</span></p>"#
        ), "{html}");
        assert_eq!(
            html.matches(r#"class="lang""#).count(),
            1,
            "the English line has no mark"
        );
    }

    #[test]
    fn a_linked_recording_gets_a_player_and_clickable_lines() {
        let html = report(&ReportAudio::Linked(
            "../rec/my%20talk%20%232.m4a\"><script>".into(),
        ));
        assert!(html.contains(
            r#"<audio id="audio" controls preload="metadata" src="../rec/my%20talk%20%232.m4a&quot;&gt;&lt;script&gt;"></audio>"#
        ));
        // Every line carries its start, in seconds.
        assert!(html.contains(r#"<p data-t="0.500"><span class="ts">00:00:00</span>"#));
        assert!(html.contains(r#"<p data-t="3723.000"><span class="ts">01:02:03</span>"#));
        assert_eq!(html.matches("<p data-t=").count(), 2);
        // The note names the file as the reader knows it, escaped.
        assert!(html.contains(
            "The recording (my talk #2.m4a&quot;&gt;&lt;script&gt;) could not be loaded"
        ));
        assert!(html.contains(r#"id="audio-note" hidden"#));
        assert_eq!(
            html.matches("<script>").count(),
            1,
            "only the player's own script"
        );
        assert!(html.contains("audio.currentTime = parseFloat(line.getAttribute(\"data-t\"))"));
        assert!(html.contains(".player { position: sticky;"));
        assert!(!html.contains("http"), "the page must not load anything");
        assert!(html.ends_with("</script></body></html>\n"));
    }

    #[test]
    fn an_embedded_recording_is_the_player_source() {
        let html = report(&ReportAudio::Embedded(
            "data:audio/webm;base64,GkXfo+/=".into(),
        ));
        assert!(html.contains(r#"src="data:audio/webm;base64,GkXfo+/=""#));
        assert!(html.contains("This browser cannot play the recording embedded"));
        assert!(html.contains(r#"<p data-t="0.500">"#));
    }

    #[test]
    fn the_report_is_stylesheet_summary_and_transcript() {
        let t = transcript(true);
        let s = compute_stats(&t);
        let html = report(&ReportAudio::None);
        let summary = summary_html(&t, &s, "talk");
        assert!(summary.starts_with("<h1>talk</h1>\n<p class=\"headline\">"));
        assert!(summary.contains("<table>") && summary.contains("<svg"));
        assert!(!summary.contains("Transcript"));
        let at = html.find(&summary).expect("summary inside the report");
        assert!(html[..at].contains(REPORT_CSS));
        assert!(html[at + summary.len()..].starts_with("<h2>Transcript</h2>"));
    }

    #[test]
    fn silent_recording_says_so() {
        let t = Transcript::default();
        assert_eq!(
            headline(&compute_stats(&t)),
            "Nobody spoke in this recording."
        );
    }
}
