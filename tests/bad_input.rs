//! Bad input ends in one clear error line and a non-zero exit; good inputs in the same
//! call still produce their output.

mod common;

use common::*;

fn one_error_line(o: &std::process::Output) -> String {
    assert!(!o.status.success(), "expected failure, got {:?}", o.status);
    let err = stderr(o);
    let lines: Vec<_> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one error line, got:\n{err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    lines[0].to_string()
}

fn run_tiny(inputs: &[&str], out: &std::path::Path) -> std::process::Output {
    let mut args = vec!["transcribe", "--quiet", "--model", "tiny.en", "--out"];
    let out = out.to_str().unwrap();
    args.push(out);
    args.extend_from_slice(inputs);
    spacescribe(&args)
}

#[test]
fn missing_file() {
    require_models();
    let dir = tempfile::tempdir().unwrap();
    let line = one_error_line(&run_tiny(&["/no/such/file.m4a"], dir.path()));
    assert!(line.contains("cannot open /no/such/file.m4a"), "{line}");
}

#[test]
fn empty_file() {
    require_models();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("empty.wav");
    std::fs::write(&f, b"").unwrap();
    let line = one_error_line(&run_tiny(&[f.to_str().unwrap()], dir.path()));
    assert!(line.contains("is empty"), "{line}");
}

#[test]
fn text_file_renamed_mp3() {
    require_models();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("notes.mp3");
    std::fs::write(
        &f,
        "Meeting notes: call the mayor's office on Monday.\n".repeat(50),
    )
    .unwrap();
    let line = one_error_line(&run_tiny(&[f.to_str().unwrap()], dir.path()));
    assert!(line.contains("not a supported audio file"), "{line}");
}

#[test]
fn unknown_model_name() {
    let dir = tempfile::tempdir().unwrap();
    let wav = sample("interview.wav");
    let o = spacescribe(&[
        "transcribe",
        "--quiet",
        "--model",
        "gigantic",
        "--out",
        dir.path().to_str().unwrap(),
        wav.to_str().unwrap(),
    ]);
    let line = one_error_line(&o);
    assert!(line.contains("unknown model 'gigantic'"), "{line}");
}

#[test]
fn missing_model_file() {
    let dir = tempfile::tempdir().unwrap();
    let wav = sample("interview.wav");
    let o = spacescribe(&[
        "transcribe",
        "--quiet",
        "--model",
        "/no/such/ggml-base.bin",
        "--out",
        dir.path().to_str().unwrap(),
        wav.to_str().unwrap(),
    ]);
    let line = one_error_line(&o);
    assert!(line.contains("not found: /no/such/ggml-base.bin"), "{line}");
}

#[test]
fn model_not_installed_points_at_setup() {
    let dir = tempfile::tempdir().unwrap();
    let wav = sample("interview.wav");
    let o = spacescribe_with_env(
        &[
            "transcribe",
            "--quiet",
            "--model",
            "tiny.en",
            wav.to_str().unwrap(),
        ],
        &[("SPACESCRIBE_MODELS", dir.path().to_str().unwrap())],
    );
    let line = one_error_line(&o);
    assert!(
        line.contains("not installed") && line.contains("scripts/fetch-models"),
        "{line}"
    );
}

#[test]
fn file_that_is_not_a_model() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("ggml-fake.bin");
    std::fs::write(&fake, b"this is not a model at all").unwrap();
    let wav = sample("interview.wav");
    let o = spacescribe(&[
        "transcribe",
        "--quiet",
        "--model",
        fake.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
        wav.to_str().unwrap(),
    ]);
    let line = one_error_line(&o);
    assert!(line.contains("not a whisper ggml model"), "{line}");
}

#[test]
fn truncated_file_transcribes_what_decodes_and_says_where_it_stopped() {
    require_models();
    let dir = tempfile::tempdir().unwrap();
    // Keep the WAV header (which promises the full length) and 40% of the data.
    let bytes = std::fs::read(sample("interview.wav")).unwrap();
    let cut = dir.path().join("cut.wav");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 5]).unwrap();
    let o = run_tiny(&[cut.to_str().unwrap()], dir.path());
    let line = one_error_line(&o);
    assert!(line.contains("decoding stopped at 00:00:"), "{line}");
    let text = transcript_text(&dir.path().join("cut.txt"));
    assert!(
        normalize(&text).len() >= 10,
        "too little text from the decoded part: {text}"
    );
}

#[test]
fn one_bad_input_does_not_stop_the_others() {
    require_models();
    let dir = tempfile::tempdir().unwrap();
    let wav = sample("interview.wav");
    let o = run_tiny(&["/no/such/a.wav", wav.to_str().unwrap()], dir.path());
    let line = one_error_line(&o);
    assert!(line.contains("/no/such/a.wav"), "{line}");
    assert!(dir.path().join("interview.txt").is_file());
    assert!(dir.path().join("interview.json").is_file());
}

#[test]
fn english_only_model_refuses_other_languages() {
    require_models();
    let dir = tempfile::tempdir().unwrap();
    let wav = sample("interview.wav");
    let o = spacescribe(&[
        "transcribe",
        "--quiet",
        "--model",
        "tiny.en",
        "--language",
        "de",
        "--out",
        dir.path().to_str().unwrap(),
        wav.to_str().unwrap(),
    ]);
    let line = one_error_line(&o);
    assert!(line.contains("English-only"), "{line}");
}
