//! The HTML report renders in a real headless browser (Debian's chromium, installed by
//! scripts/setup) with no network: a screenshot is taken and the rendered DOM holds the
//! headline, every speaker and the transcript.

use std::path::Path;
use std::process::Command;

use spacescribe::document::RunDocument;
use spacescribe::report::{write_outputs, Format, ReportAudio};
use spacescribe::transcript::{Segment, SpeakerTurn, Transcript, Word};

fn chromium() -> &'static str {
    let path = "/usr/bin/chromium";
    assert!(
        Path::new(path).is_file(),
        "{path} missing: run scripts/setup"
    );
    path
}

fn conversation() -> Transcript {
    let turns = vec![
        SpeakerTurn {
            start: 0.0,
            end: 20.0,
            speaker: 0,
        },
        SpeakerTurn {
            start: 19.0,
            end: 28.0,
            speaker: 1,
        },
        SpeakerTurn {
            start: 29.0,
            end: 35.0,
            speaker: 2,
        },
        SpeakerTurn {
            start: 36.0,
            end: 60.0,
            speaker: 0,
        },
    ];
    let segments = turns
        .iter()
        .enumerate()
        .map(|(i, t)| Segment {
            start: t.start,
            end: t.end,
            text: format!("Line {i} from speaker {} & friends <b>", t.speaker),
            words: vec![Word {
                word: "Line".into(),
                start: t.start,
                end: t.start + 0.5,
                probability: 0.9,
                speaker: Some(t.speaker),
            }],
            speaker: Some(t.speaker),
            avg_logprob: 0.0,
            no_speech_prob: 0.0,
        })
        .collect();
    Transcript {
        language: "en".into(),
        duration: 62.0,
        segments,
        speakers: vec!["Host Sam".into(), "Dana".into(), "Caller Ken".into()],
        turns,
        gaps: vec![],
    }
}

fn browser(args: &[&str], profile: &Path) -> std::process::Output {
    Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,1800",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("run chromium")
}

#[test]
fn report_renders_offline_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let doc = RunDocument::new(conversation(), None, vec![Format::Html]);
    let paths = write_outputs(
        dir.path(),
        "space",
        &doc,
        &[Format::Html],
        &ReportAudio::None,
    )
    .unwrap();
    let url = format!("file://{}", paths[0].display());
    let profile = tempfile::tempdir().unwrap();

    let dom = browser(&["--dump-dom", &url], profile.path());
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("Host Sam dominated"),
        "headline missing:\n{dom}"
    );
    for name in ["Host Sam", "Dana", "Caller Ken"] {
        assert!(dom.contains(name), "{name} missing");
    }
    assert!(dom.contains("<table>") && dom.contains("<svg"));
    assert!(
        dom.contains("friends &lt;b&gt;"),
        "transcript text must be escaped"
    );

    let png = dir.path().join("report.png");
    let shot = browser(
        &[&format!("--screenshot={}", png.display()), &url],
        profile.path(),
    );
    assert!(
        png.is_file(),
        "no screenshot: {}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    // A blank page compresses to a few KB; the report's colours and text do not.
    assert!(
        bytes.len() > 30_000,
        "screenshot looks blank ({} bytes)",
        bytes.len()
    );
    if let Ok(keep) = std::env::var("SPACESCRIBE_KEEP_SCREENSHOT") {
        std::fs::copy(&png, keep).unwrap();
    }
}
