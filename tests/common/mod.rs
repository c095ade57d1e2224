//! Helpers shared by the integration tests: run the built binary, find samples and
//! models, score transcripts.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use spacescribe::transcript::{Segment, SpeakerTurn, Transcript, Word};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn sample(name: &str) -> PathBuf {
    let p = repo().join("samples").join(name);
    assert!(p.is_file(), "sample {} missing", p.display());
    p
}

/// The models the set-up installs must be there: model-backed tests fail, never skip.
pub fn require_models() {
    let dir = spacescribe::models::models_dir();
    for file in ["ggml-tiny.en.bin", "ggml-base.bin", "ggml-silero-vad.bin"] {
        assert!(
            dir.join(file).is_file(),
            "{} missing: run scripts/setup (or scripts/fetch-models) first",
            dir.join(file).display()
        );
    }
}

pub fn spacescribe(args: &[&str]) -> Output {
    spacescribe_with_env(args, &[])
}

/// `spacescribe` with these environment variables set as well.
pub fn spacescribe_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spacescribe"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run spacescribe")
}

/// A sample's audio as 16 kHz mono 16-bit samples, decoded by ffmpeg (which the set-up
/// installs) through a wav in `work`: for tests that build recordings from the samples.
pub fn pcm16_mono(input: &Path, work: &Path) -> Vec<i16> {
    let wav = work.join("pcm16_mono.wav");
    let o = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-i"])
        .arg(input)
        .args(["-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le"])
        .arg(&wav)
        .output()
        .expect("ffmpeg (scripts/setup installs it)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let samples = hound::WavReader::open(&wav)
        .unwrap()
        .samples::<i16>()
        .map(Result::unwrap)
        .collect();
    std::fs::remove_file(&wav).unwrap();
    samples
}

/// Write 16 kHz mono 16-bit samples to a wav file.
pub fn write_pcm16_mono(path: &Path, samples: &[i16]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        writer.write_sample(s).unwrap();
    }
    writer.finalize().unwrap();
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Lower-case words with punctuation stripped, as WER scoring expects.
pub fn normalize(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'')
                .collect::<String>()
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Word error rate of `hyp` against `reference` (edit distance over words).
pub fn wer(reference: &str, hyp: &str) -> f64 {
    let r = normalize(reference);
    let h = normalize(hyp);
    strsim::generic_levenshtein(&r, &h) as f64 / r.len().max(1) as f64
}

/// Text of a `.txt` transcript, without its `[hh:mm:ss]` (and speaker) prefixes.
pub fn transcript_text(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .lines()
        .map(|l| {
            let rest = l.split_once("] ").map_or(l, |(_, r)| r);
            // Drop a "NAME: " speaker prefix if present.
            match rest.split_once(": ") {
                Some((name, text)) if !name.contains(' ') => text.to_string(),
                _ => rest.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Debian's chromium, which scripts/setup installs: browser tests fail, never skip, without it.
pub fn chromium() -> &'static str {
    let path = "/usr/bin/chromium";
    assert!(
        Path::new(path).is_file(),
        "{path} missing: run scripts/setup"
    );
    path
}

/// A made-up four-turn conversation of three speakers (one overlap, escaping-worthy text),
/// for the report writers' tests.
pub fn conversation() -> Transcript {
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
            language: None,
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
