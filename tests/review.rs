//! `review` and `rebuild` on a real run of the interview sample: the page driven in
//! Debian's headless Chromium through the DevTools protocol (clicks, a segment given to
//! another speaker, a rename, reload, undo) with every output checked on disk; the
//! server's answers to bad requests; `rebuild` reproducing a run exactly and refusing
//! broken JSON without touching a file.

mod common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use headless_chrome::{Browser, LaunchOptions, Tab};
use serde_json::Value;

use common::{require_models, sample, stderr};

/// One transcription of the sample for every test here (tiny.en, ~7 s).
fn finished_run() -> &'static Path {
    static RUN: OnceLock<tempfile::TempDir> = OnceLock::new();
    RUN.get_or_init(|| {
        require_models();
        let dir = tempfile::tempdir().unwrap();
        let out = common::spacescribe(&[
            "transcribe",
            sample("interview.m4a").to_str().unwrap(),
            "--model",
            "tiny.en",
            "--quiet",
            "--out",
            dir.path().to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        dir
    })
    .path()
}

/// A private copy of the finished run (each test edits its own).
fn copy_of_run() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(finished_run()).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    dir
}

fn files_of(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// `spacescribe review` on a run, stopped (by its PID) when dropped.
struct ReviewServer {
    child: Child,
    url: String,
}

impl ReviewServer {
    fn start(run: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_spacescribe"))
            .arg("review")
            .arg(run)
            .args(["--no-open", "--port", "0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        ReviewServer { child, url }
    }

    fn port(&self) -> u16 {
        self.url
            .trim_end_matches('/')
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }

    /// A raw HTTP/1.1 request (so nothing normalises the path): (status, body).
    fn request(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port())).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        s.read_to_string(&mut response).unwrap();
        let status = response[9..12].parse().unwrap();
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }
}

impl Drop for ReviewServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn browser() -> Browser {
    let chromium = PathBuf::from("/usr/bin/chromium");
    assert!(
        chromium.is_file(),
        "/usr/bin/chromium missing: run scripts/setup"
    );
    let args: Vec<&OsStr> = [
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--autoplay-policy=no-user-gesture-required",
    ]
    .iter()
    .map(OsStr::new)
    .collect();
    Browser::new(
        LaunchOptions::default_builder()
            .path(Some(chromium))
            .sandbox(false)
            .headless(true)
            .window_size(Some((1300, 1000)))
            .idle_browser_timeout(Duration::from_secs(120))
            .args(args)
            .build()
            .unwrap(),
    )
    .expect("start headless chromium")
}

fn eval(tab: &Tab, expression: &str) -> Value {
    tab.evaluate(expression, false)
        .unwrap_or_else(|e| panic!("{expression}: {e}"))
        .value
        .unwrap_or(Value::Null)
}

#[track_caller]
fn wait_for(tab: &Tab, condition: &str) {
    let started = Instant::now();
    while eval(tab, condition) != Value::Bool(true) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "timed out waiting for {condition}; status: {}",
            eval(tab, "document.getElementById('status')?.textContent")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn talk_time(stats: &Value, name: &str) -> f64 {
    stats["speakers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in stats"))["talk_s"]
        .as_f64()
        .unwrap()
}

fn docx_text(path: &Path) -> String {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut xml = String::new();
    zip.by_name("word/document.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    xml
}

#[test]
fn a_reporter_corrects_a_run_in_the_browser() {
    let dir = copy_of_run();
    let json_path = dir.path().join("interview.json");
    let before = read_json(&json_path);
    let stats_before = read_json(&dir.path().join("interview.stats.json"));
    let server = ReviewServer::start(&json_path, &[]);
    let browser = browser();
    let tab = browser.new_tab().unwrap();
    tab.navigate_to(&server.url).unwrap();
    wait_for(&tab, "window.reviewReady === true");
    // The recording plays (the original, or the compact copy the page falls back to).
    wait_for(&tab, "document.getElementById('player').readyState >= 1");

    // Click the third paragraph's time: the player moves to that line's start.
    let t: f64 = eval(&tab, "+document.querySelectorAll('.para .ts')[2].dataset.t")
        .as_f64()
        .unwrap();
    assert!(t > 5.0, "third paragraph starts at {t}");
    tab.find_elements(".para .ts").unwrap()[2].click().unwrap();
    wait_for(
        &tab,
        &format!("Math.abs(document.getElementById('player').currentTime - {t}) < 0.6"),
    );

    // Give one segment to another speaker through the segment's menu.
    let segments = before["segments"].as_array().unwrap();
    let speakers: Vec<String> = before["speakers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert!(speakers.len() >= 3, "{speakers:?}");
    let (index, segment) = segments
        .iter()
        .enumerate()
        .filter(|(_, s)| s["speaker"] == speakers[1])
        .max_by(|a, b| {
            let len = |s: &Value| s["end"].as_f64().unwrap() - s["start"].as_f64().unwrap();
            len(a.1).total_cmp(&len(b.1))
        })
        .unwrap();
    let (from, to) = (speakers[1].clone(), speakers[0].clone());
    tab.find_element(&format!(".w[data-seg=\"{index}\"][data-word=\"0\"]"))
        .unwrap()
        .move_mouse_over()
        .unwrap();
    tab.find_element(&format!(".segbtn[data-menu=\"{index}\"]"))
        .unwrap()
        .click()
        .unwrap();
    tab.wait_for_element(&format!("#menu button[data-to=\"{to}\"]"))
        .unwrap()
        .click()
        .unwrap();
    wait_for(&tab, "window.reviewRevision === 1");

    let after = read_json(&json_path);
    assert_eq!(after["segments"][index]["speaker"], to.as_str());
    assert_eq!(after["segments"][index]["text"], segment["text"]);
    let stats = read_json(&dir.path().join("interview.stats.json"));
    let lost = talk_time(&stats_before, &from) - talk_time(&stats, &from);
    let gained = talk_time(&stats, &to) - talk_time(&stats_before, &to);
    let length = segment["end"].as_f64().unwrap() - segment["start"].as_f64().unwrap();
    assert!(
        lost > 0.5 * length && gained > 0.5 * length && gained <= lost + 0.002,
        "segment of {length:.2} s: {from} lost {lost:.3} s, {to} gained {gained:.3} s"
    );
    let txt = std::fs::read_to_string(dir.path().join("interview.txt")).unwrap();
    let first_words: String = segment["text"].as_str().unwrap().chars().take(30).collect();
    assert!(
        txt.lines()
            .any(|l| l.contains(&format!("{to}: {first_words}"))),
        "{txt}"
    );

    // Rename a speaker by clicking their name on a paragraph.
    let renamed = speakers[2].clone();
    let id = 2;
    tab.find_element(&format!(".para .who[data-speaker=\"{id}\"]"))
        .unwrap()
        .click()
        .unwrap();
    let input = tab.wait_for_element("input.rename-input").unwrap();
    eval(
        &tab,
        "document.querySelector('input.rename-input').value = ''",
    );
    input.type_into("Dana Ortiz").unwrap();
    tab.press_key("Enter").unwrap();
    wait_for(&tab, "window.reviewRevision === 2");

    let json = read_json(&json_path);
    assert_eq!(json["speakers"][id], "Dana Ortiz");
    assert_eq!(json["history"]["edits"].as_array().unwrap().len(), 2);
    let txt = std::fs::read_to_string(dir.path().join("interview.txt")).unwrap();
    assert!(
        txt.contains("Dana Ortiz: ") && !txt.contains(&format!("{renamed}:")),
        "{txt}"
    );
    let rttm = std::fs::read_to_string(dir.path().join("interview.rttm")).unwrap();
    assert!(
        rttm.contains(" Dana_Ortiz ") && !rttm.contains(&renamed),
        "{rttm}"
    );
    let stats = read_json(&dir.path().join("interview.stats.json"));
    talk_time(&stats, "Dana Ortiz");
    let docx = docx_text(&dir.path().join("interview.docx"));
    assert!(docx.contains("Dana Ortiz") && !docx.contains(&renamed));
    let html = std::fs::read_to_string(dir.path().join("interview.html")).unwrap();
    assert!(html.contains("Dana Ortiz"));

    // A reload shows the edits (they were saved, not kept in the page).
    tab.navigate_to(&server.url).unwrap();
    wait_for(
        &tab,
        "window.reviewReady === true && window.reviewRevision === 2",
    );
    assert_eq!(
        eval(
            &tab,
            &format!("document.querySelector('.para .who[data-speaker=\"{id}\"]').textContent")
        ),
        "Dana Ortiz"
    );
    assert_eq!(
        eval(&tab, &format!("document.querySelector('.w[data-seg=\"{index}\"]').closest('.para').dataset.speaker")),
        "0"
    );

    // Undo the rename: every output follows.
    wait_for(&tab, "!document.getElementById('undo').disabled");
    tab.find_element("#undo").unwrap().click().unwrap();
    wait_for(&tab, "window.reviewRevision === 3");
    let txt = std::fs::read_to_string(dir.path().join("interview.txt")).unwrap();
    assert!(
        !txt.contains("Dana Ortiz") && txt.contains(&format!("{renamed}:")),
        "{txt}"
    );
    assert!(!docx_text(&dir.path().join("interview.docx")).contains("Dana Ortiz"));
    let json = read_json(&json_path);
    assert_eq!(json["history"]["cursor"], 1);
    assert_eq!(json["segments"][index]["speaker"], to.as_str());
    // Nothing half-written is left beside the outputs.
    assert!(files_of(dir.path()).keys().all(|n| !n.ends_with(".tmp")));
}

#[test]
fn the_server_refuses_bad_requests_and_changes_nothing() {
    let dir = copy_of_run();
    let json_path = dir.path().join("interview.json");
    let server = ReviewServer::start(&json_path, &[]);
    let untouched = files_of(dir.path());
    for path in [
        "/nothing",
        "/../interview.json",
        "/audio/../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/api/run/../../interview.json",
    ] {
        let (status, body) = server.request("GET", path, "");
        assert_eq!(status, 404, "{path}: {body}");
        assert!(body.contains("not found"), "{path}: {body}");
    }
    let edits = [
        ("{not json", 400, "malformed request"),
        (
            r#"{"revision": 0, "edit": {"op": "explode"}}"#,
            400,
            "malformed request",
        ),
        (
            r#"{"revision": 0, "edit": {"op": "split", "segment": 9999, "word": 1}}"#,
            422,
            "there is no segment 9999",
        ),
        (
            r#"{"revision": 0, "edit": {"op": "assign", "segment": 0, "words": [5, 2], "to": "X"}}"#,
            422,
            "not a range",
        ),
        (
            r#"{"revision": 0, "edit": {"op": "rename", "speaker": "SPEAKER_00", "name": ""}}"#,
            422,
            "cannot be empty",
        ),
        (
            r#"{"revision": 7, "edit": {"op": "rename", "speaker": "SPEAKER_00", "name": "Ana"}}"#,
            409,
            "changed elsewhere",
        ),
        (r#"{"revision": 0}"#, 422, "names no edit"),
    ];
    for (body, status, message) in edits {
        let (got, answer) = server.request("POST", "/api/edit", body);
        assert_eq!(got, status, "{body}: {answer}");
        assert!(answer.contains(message), "{body}: {answer}");
    }
    let (got, answer) = server.request("POST", "/api/undo", r#"{"revision": 0}"#);
    assert_eq!(
        (got, answer.contains("nothing to undo")),
        (422, true),
        "{answer}"
    );
    assert_eq!(files_of(dir.path()), untouched);

    // A byte range of the recording, for instant seeking.
    let mut s = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    write!(
        s,
        "GET /audio HTTP/1.1\r\nHost: x\r\nRange: bytes=100-199\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    s.read_to_end(&mut response).unwrap();
    let head = String::from_utf8_lossy(&response[..response.len().min(400)]).to_string();
    assert!(head.starts_with("HTTP/1.1 206"), "{head}");
    assert!(
        head.to_lowercase()
            .contains("content-range: bytes 100-199/"),
        "{head}"
    );

    // The port is taken now: a second server says so in one line.
    let port = server.port().to_string();
    let out = common::spacescribe(&[
        "review",
        json_path.to_str().unwrap(),
        "--no-open",
        "--port",
        &port,
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: cannot listen on 127.0.0.1:") && err.contains("--port"),
        "{err}"
    );
}

#[test]
fn rebuild_reproduces_a_run_exactly() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        finished_run().join("interview.json"),
        dir.path().join("interview.json"),
    )
    .unwrap();
    let out = common::spacescribe(&[
        "rebuild",
        dir.path().join("interview.json").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let original = files_of(finished_run());
    let rebuilt = files_of(dir.path());
    assert_eq!(
        original.keys().collect::<Vec<_>>(),
        rebuilt.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &original {
        assert!(rebuilt[name] == *bytes, "{name} differs after rebuild");
    }
}

#[test]
fn rebuild_follows_a_hand_edited_json() {
    let dir = copy_of_run();
    let json_path = dir.path().join("interview.json");
    let mut json = read_json(&json_path);
    let stats_before = read_json(&dir.path().join("interview.stats.json"));
    // A person gives the first segment to a new speaker and fixes a word.
    let owner = json["segments"][0]["speaker"].as_str().unwrap().to_string();
    json["segments"][0]["speaker"] = "Host".into();
    json["segments"][1]["words"][0]["word"] = "Corrected".into();
    json["segments"][1]["text"] = "Corrected text of this line.".into();
    std::fs::write(&json_path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    let out = common::spacescribe(&[
        "rebuild",
        json_path.to_str().unwrap(),
        "--formats",
        "txt,stats.json,json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let txt = std::fs::read_to_string(dir.path().join("interview.txt")).unwrap();
    assert!(txt.lines().next().unwrap().contains("] Host: "), "{txt}");
    assert!(txt.contains("Corrected text of this line."), "{txt}");
    let stats = read_json(&dir.path().join("interview.stats.json"));
    let moved = talk_time(&stats, "Host");
    assert!(moved > 1.0, "Host talks {moved} s");
    let lost = talk_time(&stats_before, &owner) - talk_time(&stats, &owner);
    assert!(
        (lost - moved).abs() < 0.01,
        "{owner} lost {lost}, Host gained {moved}"
    );
    let json = read_json(&json_path);
    assert!(json["turns"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["speaker"] == "Host"));
}

/// A change that makes a run's JSON contradict itself.
type Corruption = Box<dyn Fn(&mut Value)>;

#[test]
fn rebuild_refuses_broken_json_in_one_line_and_writes_nothing() {
    let dir = copy_of_run();
    let json_path = dir.path().join("interview.json");
    let good = read_json(&json_path);
    let cases: Vec<(Corruption, &str)> = vec![
        (
            Box::new(|v| v["segments"][3]["start"] = 70.0.into()),
            "segments[3]: start 70 s is after its end",
        ),
        (
            Box::new(|v| v["segments"][4]["start"] = 0.5.into()),
            "segments[4]: starts at 0.5 s, before the segment above",
        ),
        (
            Box::new(|v| v["segments"][5]["end"] = 500.0.into()),
            "lies outside 0-75.13 s (the audio)",
        ),
        (
            Box::new(|v| v["segments"][2]["words"][1]["start"] = 0.0.into()),
            "segments[2].words[1]",
        ),
        (
            Box::new(|v| v["turns"][0]["speaker"] = "Nobody".into()),
            "turns[0]: unknown speaker \"Nobody\"",
        ),
    ];
    let untouched = files_of(dir.path());
    let check = |text: String, expected: &str| {
        std::fs::write(&json_path, &text).unwrap();
        let out = common::spacescribe(&["rebuild", json_path.to_str().unwrap()]);
        assert!(!out.status.success());
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("error: ") && err.contains(expected),
            "{expected}: {err}"
        );
        let mut now = files_of(dir.path());
        now.insert("interview.json".into(), untouched["interview.json"].clone());
        assert!(now == untouched, "{expected}: an output changed");
    };
    for (edit, expected) in cases {
        let mut v = good.clone();
        edit(&mut v);
        check(serde_json::to_string_pretty(&v).unwrap(), expected);
    }
    let text = std::fs::read_to_string(finished_run().join("interview.json")).unwrap();
    check(
        text.replacen("\"segments\": [", "\"segments\": [,", 1),
        "line ",
    );
}
