//! The HTML report renders in a real headless browser (Debian's chromium, installed by
//! scripts/setup) with no network: a screenshot is taken and the rendered DOM holds the
//! headline, every speaker and the transcript.

mod common;

use std::path::Path;
use std::process::Command;

use common::{chromium, conversation};
use spacescribe::document::RunDocument;
use spacescribe::report::{write_outputs, Format, ReportAudio};

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
