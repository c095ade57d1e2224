//! Every container and codec the README lists decodes: the same two seconds of stereo
//! sound, made by ffmpeg (installed by scripts/setup) into each, comes out as two seconds.

use std::path::Path;
use std::process::Command;

use spacescribe::source::file::FileSource;
use spacescribe::source::AudioSource;

fn decoded_seconds(path: &Path) -> f64 {
    let mut source = FileSource::open(path).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
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
