//! Every container and codec the README lists decodes: the same two seconds of stereo
//! sound, made by ffmpeg (installed by scripts/setup) into each, comes out as two seconds.
//! symphonia reads most; ffmpeg the rest (Opus, WMA, AC-3), through the same opener.

use std::path::Path;
use std::process::Command;

use spacescribe::source::open_file;

fn decoded_seconds(path: &Path) -> f64 {
    let mut source = open_file(path).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
    let mut frames = 0usize;
    while let Some(block) = source.next_block().unwrap() {
        frames += block.len();
    }
    assert!(source.stopped_early().is_none(), "{}", path.display());
    frames as f64 / source.sample_rate() as f64
}

#[test]
fn every_listed_format_decodes_to_the_same_length() {
    let dir = tempfile::tempdir().unwrap();
    let formats = [
        ("wav", "pcm_s16le"),
        ("mp3", "libmp3lame"),
        ("m4a", "aac"),
        ("aac", "aac"),
        ("flac", "flac"),
        ("ogg", "libvorbis"),
        ("mkv", "libvorbis"),
        ("webm", "libvorbis"),
        ("aiff", "pcm_s16be"),
        ("caf", "pcm_s16le"),
        ("m4b", "alac"),
        ("opus", "libopus"),
        ("webm", "libopus"),
        ("wma", "wmav2"),
        ("ac3", "ac3"),
    ];
    for (ext, codec) in formats {
        let path = dir.path().join(format!("tone.{ext}"));
        let status = Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
            .arg("sine=frequency=440:sample_rate=44100:duration=2")
            .args(["-ac", "2", "-c:a", codec])
            .arg(&path)
            .status()
            .expect("ffmpeg missing: run scripts/setup");
        assert!(status.success(), "ffmpeg could not make {ext}");
        let seconds = decoded_seconds(&path);
        assert!((seconds - 2.0).abs() < 0.06, "{ext}/{codec}: {seconds} s");
    }
}

/// Seconds from the start to the first sample louder than a quiet floor.
fn onset_seconds(path: &Path) -> f64 {
    let mut source = open_file(path).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
    let mut frames = 0usize;
    while let Some(block) = source.next_block().unwrap() {
        if let Some(i) = block.iter().position(|x| x.abs() > 0.05) {
            return (frames + i) as f64 / source.sample_rate() as f64;
        }
        frames += block.len();
    }
    panic!("{}: no sound found", path.display());
}

/// A word's time in the transcript is where a player plays it: a tone that starts 1 s in
/// starts 1 s in after decoding, in every container that can say where its audio starts
/// (MP4's edit list drops the AAC encoder's priming samples, MP3's LAME header its delay).
/// Raw ADTS `.aac` cannot say so, and players play its priming too.
#[test]
fn sound_starts_where_a_player_plays_it() {
    let dir = tempfile::tempdir().unwrap();
    for (ext, codec) in [
        ("wav", "pcm_s16le"),
        ("mp3", "libmp3lame"),
        ("m4a", "aac"),
        ("flac", "flac"),
        ("ogg", "libvorbis"),
        ("m4b", "alac"),
        ("opus", "libopus"),
    ] {
        let path = dir.path().join(format!("onset.{ext}"));
        let status = Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
            .arg("sine=frequency=440:sample_rate=44100:duration=1,adelay=1000")
            .args(["-c:a", codec])
            .arg(&path)
            .status()
            .expect("ffmpeg missing: run scripts/setup");
        assert!(status.success(), "ffmpeg could not make {ext}");
        let onset = onset_seconds(&path);
        assert!(
            (onset - 1.0).abs() < 0.003,
            "{ext}/{codec}: the tone starts at {onset:.4} s, not 1 s"
        );
    }
}
