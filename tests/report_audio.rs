//! The HTML report's player in a real headless browser (Debian's chromium, from
//! scripts/setup), offline: clicking a transcript line moves the player to that line's start
//! and marks the line; with the linked recording gone, the page still works and says why
//! the player is silent. The report is loaded in an iframe of a small harness page that
//! clicks and writes what it saw into its own DOM, which `--dump-dom` prints.

use std::path::Path;
use std::process::Command;

use spacescribe::audio_copy::{compact_copy, report_audio_for};
use spacescribe::document::RunDocument;
use spacescribe::report::{write_outputs, Format, ReportAudio};
use spacescribe::transcript::{Segment, SpeakerTurn, Transcript};

mod common;

use common::chromium;

fn conversation() -> Transcript {
    let turns: Vec<SpeakerTurn> = [(0.0, 20.0, 0), (19.5, 28.0, 1), (29.25, 35.0, 0)]
        .into_iter()
        .map(|(start, end, speaker)| SpeakerTurn {
            start,
            end,
            speaker,
        })
        .collect();
    let segments = turns
        .iter()
        .map(|t| Segment {
            start: t.start,
            end: t.end,
            text: format!("From {} to {}.", t.start, t.end),
            words: vec![],
            speaker: Some(t.speaker),
            avg_logprob: 0.0,
            no_speech_prob: 0.0,
            language: None,
        })
        .collect();
    Transcript {
        language: "en".into(),
        duration: 40.0,
        segments,
        speakers: vec!["Host".into(), "Guest".into()],
        turns,
        gaps: vec![],
    }
}

/// 40 s of a quiet tone, 8 kHz mono.
fn recording(path: &Path) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..40 * 8000 {
        let v = (i as f64 * 2.0 * std::f64::consts::PI * 300.0 / 8000.0).sin();
        w.write_sample((v * 3000.0) as i16).unwrap();
    }
    w.finalize().unwrap();
}

/// Loads the report, waits for the player to be ready (or to fail), clicks the third
/// line and reports the player's position, the marked line and the note's state.
const HARNESS: &str = r#"<!DOCTYPE html><html><body>
<iframe id="f" src="report/talk.html" width="1200" height="800"></iframe>
<pre id="result">pending</pre>
<script>
var f = document.getElementById("f");
f.addEventListener("load", function () {
  var d = f.contentDocument, audio = d.getElementById("audio"), done = false;
  function go() {
    if (done) return;
    done = true;
    d.querySelectorAll(".transcript p[data-t]")[2].click();
    setTimeout(function () {
      var now = d.querySelector(".transcript p.now");
      document.getElementById("result").textContent = JSON.stringify({
        t: audio.currentTime,
        duration: audio.duration,
        error: audio.error ? audio.error.code : null,
        now: now ? now.getAttribute("data-t") : null,
        note_hidden: d.getElementById("audio-note").hidden
      });
    }, 1000);
  }
  if (audio.readyState >= 1 || audio.error) go();
  audio.addEventListener("loadedmetadata", go);
  audio.addEventListener("error", go);
});
</script></body></html>
"#;

/// Writes the report into `<dir>/report/`, runs the harness, returns what it saw.
fn click_third_line(dir: &Path, audio: &ReportAudio) -> serde_json::Value {
    let report_dir = dir.join("report");
    std::fs::create_dir_all(&report_dir).unwrap();
    let doc = RunDocument::new(conversation(), None, vec![Format::Html]);
    write_outputs(&report_dir, "talk", &doc, &[Format::Html], audio).unwrap();
    let harness = dir.join("harness.html");
    std::fs::write(&harness, HARNESS).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            // The harness reads the report's DOM across file:// pages.
            "--allow-file-access-from-files",
            "--autoplay-policy=no-user-gesture-required",
            "--virtual-time-budget=8000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", harness.display()))
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&out.stdout);
    let json = dom
        .split_once(r#"<pre id="result">{"#)
        .and_then(|(_, rest)| rest.split_once("</pre>"))
        .map(|(json, _)| format!("{{{}", json.replace("&quot;", "\"")))
        .unwrap_or_else(|| {
            panic!(
                "the harness did not finish:\n{dom}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    serde_json::from_str(&json).unwrap()
}

#[test]
fn clicking_a_line_plays_the_linked_recording_from_its_start() {
    let dir = tempfile::tempdir().unwrap();
    let rec_dir = dir.path().join("rec");
    std::fs::create_dir_all(&rec_dir).unwrap();
    let wav = rec_dir.join("my talk.wav");
    recording(&wav);
    let audio = report_audio_for(&wav, &dir.path().join("report"), false).unwrap();
    assert_eq!(audio, ReportAudio::Linked("../rec/my%20talk.wav".into()));

    let seen = click_third_line(dir.path(), &audio);
    assert_eq!(seen["error"], serde_json::Value::Null, "{seen}");
    let t = seen["t"].as_f64().unwrap();
    assert!(
        (29.25..29.6).contains(&t),
        "player at {t}, not at the line's 29.25 s: {seen}"
    );
    assert_eq!(seen["now"], "29.250", "the clicked line is marked: {seen}");
    assert_eq!(seen["note_hidden"], true, "{seen}");
}

#[test]
fn an_embedded_compact_copy_plays_in_the_browser() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("talk.wav");
    recording(&wav);
    let audio = report_audio_for(&wav, &dir.path().join("report"), true).unwrap();
    // The copy went into the user's cache, keyed by this temporary path: remove it.
    std::fs::remove_file(compact_copy(&wav).unwrap()).unwrap();
    let ReportAudio::Embedded(url) = &audio else {
        panic!("not embedded: {audio:?}")
    };
    assert!(
        url.starts_with("data:audio/webm;base64,GkXfo"),
        "{}",
        &url[..40]
    );

    let seen = click_third_line(dir.path(), &audio);
    assert_eq!(seen["error"], serde_json::Value::Null, "{seen}");
    let duration = seen["duration"].as_f64().unwrap();
    assert!(
        (39.9..40.1).contains(&duration),
        "decoded {duration} s of 40: {seen}"
    );
    let t = seen["t"].as_f64().unwrap();
    assert!((29.25..29.6).contains(&t), "player at {t}: {seen}");
}

#[test]
fn a_missing_recording_leaves_the_page_working_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let audio = ReportAudio::Linked("../rec/gone.wav".into());
    let seen = click_third_line(dir.path(), &audio);
    assert_eq!(seen["note_hidden"], false, "the note is shown: {seen}");
    assert!(seen["error"].as_u64().is_some(), "{seen}");
}
