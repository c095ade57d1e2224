//! Archives: folder inputs mirrored into the output tree, done work skipped, and runs that
//! survive kill -9, SIGTERM and a full disk - resumed from their journal to outputs
//! identical to an uninterrupted run's. Real model (tiny.en), real audio.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{require_models, sample, stderr};

const MODEL: &[&str] = &["--model", "tiny.en"];

fn spacescribe_in(out: &Path, inputs: &[&Path], extra: &[&str]) -> std::process::Output {
    let mut args: Vec<String> = vec!["transcribe".into()];
    args.extend(inputs.iter().map(|p| p.display().to_string()));
    args.extend(["--out".into(), out.display().to_string()]);
    args.extend(MODEL.iter().chain(extra).map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    common::spacescribe(&args)
}

fn start(out: &Path, input: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_spacescribe"))
        .arg("transcribe")
        .arg(input)
        .arg("--out")
        .arg(out)
        .args(MODEL)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Every file under `dir` by relative path.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walk(dir)
        .into_iter()
        .map(|p| {
            (
                p.strip_prefix(dir).unwrap().display().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The panel sample transcribed once, uninterrupted: what every resumed run must equal.
fn reference() -> &'static BTreeMap<String, Vec<u8>> {
    static REF: OnceLock<BTreeMap<String, Vec<u8>>> = OnceLock::new();
    REF.get_or_init(|| {
        require_models();
        let dir = tempfile::tempdir().unwrap();
        let out = spacescribe_in(dir.path(), &[&sample("panel.flac")], &["--quiet"]);
        assert!(out.status.success(), "{}", stderr(&out));
        tree(dir.path())
    })
}

/// The same outputs, byte for byte, as the uninterrupted run; no journal or temp file left.
#[track_caller]
fn assert_like_reference(dir: &Path) {
    let got = tree(dir);
    let expected = reference();
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in expected {
        assert!(
            got[name] == *bytes,
            "{name} differs from the uninterrupted run's"
        );
    }
}

fn journal_lines(path: &Path) -> usize {
    std::fs::read(path)
        .map(|b| b.iter().filter(|&&c| c == b'\n').count())
        .unwrap_or(0)
}

/// Wait until the journal holds `lines` lines (header + chunks), then return.
fn wait_for_journal(child: &mut Child, journal: &Path, lines: usize) {
    let started = Instant::now();
    while journal_lines(journal) < lines {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before its journal had {lines} lines"
        );
        assert!(started.elapsed() < Duration::from_secs(120), "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_folder_is_mirrored_bad_files_are_counted_done_files_skipped() {
    require_models();
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("in");
    std::fs::create_dir_all(archive.join("2024/may")).unwrap();
    std::fs::create_dir_all(archive.join(".trash")).unwrap();
    let cut = |from: &Path, start: &str, to: &Path| {
        let ok = Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-ss", start, "-t", "12", "-i"])
            .arg(from)
            .arg(to)
            .status()
            .expect("ffmpeg missing: run scripts/setup")
            .success();
        assert!(ok);
    };
    cut(
        &sample("interview.wav"),
        "0",
        &archive.join("2024/may/space.m4a"),
    );
    cut(
        &sample("interview.wav"),
        "14",
        &archive.join("2024/call.mp3"),
    );
    cut(&sample("panel.flac"), "30", &archive.join("panel.flac"));
    cut(
        &sample("panel.flac"),
        "60",
        &archive.join(".trash/old.flac"),
    );
    std::fs::write(archive.join("2024/notes.txt"), "not audio").unwrap();
    std::fs::write(archive.join("2024/broken.wav"), b"RIFF\0\0\0\0garbage").unwrap();

    let out = dir.path().join("out");
    let run = spacescribe_in(&out, &[&archive], &["--formats", "txt,json"]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let err = stderr(&run);
    assert!(
        err.contains("error: ") && err.contains("broken.wav"),
        "{err}"
    );
    let mut files: Vec<String> = tree(&out).into_keys().collect();
    files.sort();
    assert_eq!(
        files,
        [
            "2024/call.json",
            "2024/call.txt",
            "2024/may/space.json",
            "2024/may/space.txt",
            "panel.json",
            "panel.txt"
        ]
    );
    let txt = std::fs::read_to_string(out.join("2024/may/space.txt")).unwrap();
    assert!(txt.contains("Open Archive"), "{txt}");
    let first = tree(&out);

    // Again: everything done is skipped (the broken file is still reported).
    let started = Instant::now();
    let again = spacescribe_in(&out, &[&archive], &["--formats", "txt,json"]);
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(again.status.code(), Some(1));
    let err = stderr(&again);
    assert_eq!(err.matches("skipped (up to date): ").count(), 3, "{err}");
    assert!(seconds < 5.0, "a re-run over done work took {seconds:.1} s");
    assert!(tree(&out) == first);

    // Another option is other work; --force redoes what is up to date.
    let beam = spacescribe_in(
        &out,
        &[&archive.join("panel.flac")],
        &["--formats", "txt,json", "--beam-size", "2"],
    );
    assert!(beam.status.success(), "{}", stderr(&beam));
    assert!(!stderr(&beam).contains("skipped"));
    let forced = spacescribe_in(
        &out,
        &[&archive.join("2024/call.mp3")],
        &[
            "--formats",
            "txt,json",
            "--force",
            "--tree-root",
            archive.to_str().unwrap(),
        ],
    );
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert!(!stderr(&forced).contains("skipped"));
    assert!(out.join("2024/call.json").is_file());
}

#[test]
fn kill_9_at_several_moments_then_resume_gives_the_same_outputs() {
    let reference = reference();
    assert!(!reference.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("panel.journal");
    // Killed before its first chunk, then after 2 and after 6 finished chunks.
    for lines in [1, 3, 7] {
        let mut child = start(dir.path(), &sample("panel.flac"));
        wait_for_journal(&mut child, &journal, lines);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert!(journal.is_file());
    }
    let resumed = spacescribe_in(dir.path(), &[&sample("panel.flac")], &[]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert!(!journal.exists(), "the journal is removed after success");
    assert_like_reference(dir.path());
}

#[test]
fn sigterm_exits_75_keeps_the_journal_and_the_rerun_finishes() {
    reference();
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("panel.journal");
    let mut child = start(dir.path(), &sample("panel.flac"));
    wait_for_journal(&mut child, &journal, 3);
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    assert!(stderr(&out).contains("resumes from"), "{}", stderr(&out));
    assert!(journal_lines(&journal) >= 3);
    let json = std::fs::read_to_string(dir.path().join("panel.json")).unwrap();
    assert!(json.contains("\"partial\": true"));
    let resumed = spacescribe_in(dir.path(), &[&sample("panel.flac")], &["--quiet"]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert!(stderr(&resumed).is_empty(), "{}", stderr(&resumed));
    assert_like_reference(dir.path());
}

/// A tmpfs mounted for the test, unmounted (and its folder removed) when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "cannot mount a tmpfs: the disk-full test needs root (CI runs as root)"
        );
        SmallDisk { dir }
    }

    fn grow(&self, size: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(self.dir.path())
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn a_full_disk_is_one_clear_error_and_the_rerun_finishes_once_there_is_room() {
    reference();
    // Room for the journal's first chunks, not for the whole run.
    let disk = SmallDisk::mount("600k");
    let out = disk.dir.path();
    let full = spacescribe_in(out, &[&sample("panel.flac")], &["--quiet"]);
    assert_eq!(full.status.code(), Some(75), "{}", stderr(&full));
    let err = stderr(&full);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("No space left on device"),
        "{err}"
    );
    assert!(
        journal_lines(&out.join("panel.journal")) >= 2,
        "the journal keeps what was done"
    );
    assert!(
        walk(out).iter().all(|p| p.ends_with("panel.journal")),
        "only the journal is there: {:?}",
        walk(out)
    );
    disk.grow("20m");
    let resumed = spacescribe_in(out, &[&sample("panel.flac")], &[]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_like_reference(out);
}
