//! The recording as a browser plays it: the HTML report's player (a link to the input, or
//! with `--embed-audio` a compact copy inside the page) and `review`'s player for formats a
//! browser cannot play.
//!
//! The compact copy is Opus, mono, 24 kbit/s, in WebM: speech stays clear, an hour is about
//! 11 MB, and every current browser plays it (Chrome, Firefox, Edge, Safari 15+). ffmpeg
//! makes it (symphonia only decodes); it is made once per recording and cached under
//! `~/.cache/spacescribe/audio/`, keyed by the input's absolute path, size and
//! modification time, so a second report or `review` of the same file reuses it and an
//! edited file gets a new one. It is written under a temporary name and renamed when
//! complete, and encoded bit-exactly (no encoder version, no random track ids, no copied
//! tags), so the same input always gives the same bytes and a report that embeds it is
//! reproducible.

use std::ffi::OsStr;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use base64::Engine as _;

use crate::report::ReportAudio;

/// Encoding settings; part of the cache key, so changing them makes new copies.
const FFMPEG_ARGS: &[&str] = &[
    "-map",
    "0:a:0",
    "-vn",
    "-map_metadata",
    "-1",
    "-ac",
    "1",
    "-c:a",
    "libopus",
    "-b:a",
    "24k",
    "-fflags",
    "+bitexact",
    "-flags:a",
    "+bitexact",
    "-f",
    "webm",
];

const COPY_EXTENSION: &str = "webm";
const COPY_MIME: &str = "audio/webm";

/// A compact Opus copy of `input` (any format ffmpeg reads), made once and cached.
pub fn compact_copy(input: &Path) -> Result<PathBuf> {
    compact_copy_with(OsStr::new("ffmpeg"), input, &cache_dir())
}

/// Whether a browser's `<audio>` plays this file as it is, judged by its extension.
/// Yes: wav, mp3 and flac everywhere; ogg/oga/opus (Opus and Vorbis) and webm in Chrome,
/// Firefox and Safari 15+; m4a/mp4/aac (AAC) everywhere. No: aiff and caf (Safari only),
/// mkv (not a web format, plays only by luck), wma, amr and anything unknown. An m4a
/// holding ALAC rather than AAC is the one miss: only Safari plays it.
pub fn browser_playable(path: &Path) -> bool {
    let ext = path
        .extension()
        .and_then(OsStr::to_str)
        .map(str::to_ascii_lowercase);
    matches!(
        ext.as_deref(),
        Some("wav" | "mp3" | "ogg" | "oga" | "opus" | "webm" | "flac" | "m4a" | "mp4" | "aac")
    )
}

/// How the report written into `out_dir` reaches the recording `input`: embedded as a
/// compact copy (`--embed-audio`), else linked by a path relative to the report.
pub fn report_audio_for(input: &Path, out_dir: &Path, embed: bool) -> Result<ReportAudio> {
    if !embed {
        return Ok(ReportAudio::Linked(link_url(input, out_dir)));
    }
    if !ffmpeg_available(OsStr::new("ffmpeg")) {
        bail!("--embed-audio needs ffmpeg: install it (apt install ffmpeg)");
    }
    Ok(ReportAudio::Embedded(data_url(&compact_copy(input)?)?))
}

/// A compact copy as a `data:` URL, for a report that carries its audio.
fn data_url(copy: &Path) -> Result<String> {
    let bytes = std::fs::read(copy).with_context(|| format!("cannot read {}", copy.display()))?;
    Ok(format!(
        "data:{COPY_MIME};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

/// `$XDG_CACHE_HOME/spacescribe/audio`, else `~/.cache/spacescribe/audio` (as the models).
fn cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"))
        .join("spacescribe")
        .join("audio")
}

fn ffmpeg_available(ffmpeg: &OsStr) -> bool {
    Command::new(ffmpeg)
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn compact_copy_with(ffmpeg: &OsStr, input: &Path, cache: &Path) -> Result<PathBuf> {
    let input = input
        .canonicalize()
        .with_context(|| format!("cannot open {}", input.display()))?;
    let target = cache.join(cache_name(&input)?);
    if target.is_file() {
        return Ok(target);
    }
    std::fs::create_dir_all(cache).with_context(|| format!("cannot create {}", cache.display()))?;
    let partial = tempfile::Builder::new()
        .prefix(".partial-")
        .suffix(&format!(".{COPY_EXTENSION}"))
        .tempfile_in(cache)?;
    let run = Command::new(ffmpeg)
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i"])
        .arg(&input)
        .args(FFMPEG_ARGS)
        .arg(partial.path())
        .output();
    let out = match run {
        Err(e) if e.kind() == ErrorKind::NotFound => bail!(
            "a browser-playable copy of {} needs ffmpeg: install it (apt install ffmpeg)",
            input.display()
        ),
        other => other.context("cannot run ffmpeg")?,
    };
    if !out.status.success() {
        bail!(
            "ffmpeg could not convert {}: {}",
            input.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    partial
        .persist(&target)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", target.display()))?;
    Ok(target)
}

/// `<stem>-<hash>.webm`, the hash over the encoding settings and the input's absolute
/// path, size and modification time: readable in a directory listing, new when the
/// recording changes.
fn cache_name(input: &Path) -> Result<String> {
    let meta =
        std::fs::metadata(input).with_context(|| format!("cannot open {}", input.display()))?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .unwrap_or_default();
    let mut key = Vec::new();
    for arg in FFMPEG_ARGS {
        key.extend_from_slice(arg.as_bytes());
        key.push(0);
    }
    key.extend_from_slice(input.as_os_str().as_encoded_bytes());
    key.push(0);
    key.extend_from_slice(&meta.len().to_le_bytes());
    key.extend_from_slice(&mtime.as_secs().to_le_bytes());
    key.extend_from_slice(&mtime.subsec_nanos().to_le_bytes());
    let stem: String = input
        .file_stem()
        .map(|s| s.to_string_lossy())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    Ok(format!("{stem}-{:016x}.{COPY_EXTENSION}", fnv1a(&key)))
}

/// FNV-1a, 64 bit: stable across Rust releases (std's hasher is not promised to be), and
/// plenty for a cache key.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The recording's URL relative to the report's folder (`interview.m4a`,
/// `../rec/my%20talk.m4a`). Both paths are made absolute and `..` resolved by name, as a
/// browser resolves the link against the report's own URL. Only where no relative path
/// exists (another drive on Windows) does it fall back to an absolute `file://` URL.
pub fn link_url(input: &Path, out_dir: &Path) -> String {
    let input = lexically_absolute(input);
    match pathdiff::diff_paths(&input, lexically_absolute(out_dir)) {
        Some(rel) => url_path(&rel),
        None => format!("file:///{}", url_path(&input).trim_start_matches('/')),
    }
}

fn lexically_absolute(path: &Path) -> PathBuf {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// A path as URL path segments joined by `/`, each percent-encoded (spaces, `#`, `?`, `%`
/// and non-ASCII bytes) so the browser finds exactly that file.
fn url_path(path: &Path) -> String {
    let segments: Vec<String> = path
        .components()
        .filter_map(|c| match c {
            Component::RootDir => Some(String::new()),
            Component::ParentDir => Some("..".into()),
            Component::Normal(s) => Some(percent_encode(s.as_encoded_bytes(), false)),
            // `C:` stays as it is in `file:///C:/...`.
            Component::Prefix(p) => Some(percent_encode(p.as_os_str().as_encoded_bytes(), true)),
            Component::CurDir => None,
        })
        .collect();
    segments.join("/")
}

/// Everything but unreserved characters is encoded; a `:` too (`a:b.wav` would read as a
/// URL scheme), except in a drive prefix.
fn percent_encode(bytes: &[u8], keep_colon: bool) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (keep_colon && b == b':')
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three seconds of a gliding tone with a little noise: quick to encode, not trivial.
    fn tone_wav(path: &Path) {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 44_100,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        let mut noise = 12345u32;
        for i in 0..3 * 44_100 {
            let t = i as f64 / 44_100.0;
            noise = noise.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let n = f64::from(noise >> 16) / 65536.0 - 0.5;
            let v = (2.0 * std::f64::consts::PI * (200.0 + 100.0 * t) * t).sin() * 0.5 + n * 0.05;
            let s = (v * 20_000.0) as i16;
            w.write_sample(s).unwrap();
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
    }

    #[test]
    fn copies_are_bit_exact_cached_and_rewritten_when_the_input_changes() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("my talk.wav");
        tone_wav(&input);
        let (cache_a, cache_b) = (dir.path().join("a"), dir.path().join("b"));
        let ffmpeg = OsStr::new("ffmpeg");
        let a = compact_copy_with(ffmpeg, &input, &cache_a).unwrap();
        let b = compact_copy_with(ffmpeg, &input, &cache_b).unwrap();
        let bytes = std::fs::read(&a).unwrap();
        assert_eq!(&bytes[..4], b"\x1a\x45\xdf\xa3", "not a WebM (EBML) file");
        assert!(bytes == std::fs::read(&b).unwrap(), "two encodes differ");
        // Opus at 24 kbit/s: three seconds in well under 20 KB (the WAV is 530 KB).
        assert!(bytes.len() < 20_000, "{} bytes", bytes.len());
        assert!(a
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("my_talk-"));

        // Reused: the cached file is returned as it is, not made again.
        let before = std::fs::metadata(&a).unwrap().modified().unwrap();
        assert_eq!(compact_copy_with(ffmpeg, &input, &cache_a).unwrap(), a);
        assert_eq!(std::fs::metadata(&a).unwrap().modified().unwrap(), before);

        // A changed recording (new size and time) gets a new copy.
        std::thread::sleep(std::time::Duration::from_millis(20));
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&input)
            .unwrap();
        std::io::Write::write_all(&mut f, &[0; 4]).unwrap();
        drop(f);
        let c = compact_copy_with(ffmpeg, &input, &cache_a).unwrap();
        assert_ne!(c, a);
        let names: Vec<_> = std::fs::read_dir(&cache_a)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 2, "no partial files left: {names:?}");
    }

    #[test]
    fn a_missing_ffmpeg_and_a_failed_conversion_say_so_and_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("talk.wav");
        tone_wav(&input);
        let cache = dir.path().join("cache");
        let missing = OsStr::new("/nonexistent/ffmpeg");
        assert!(!ffmpeg_available(missing));
        let e = compact_copy_with(missing, &input, &cache).unwrap_err();
        assert!(
            format!("{e:#}").contains("needs ffmpeg: install it (apt install ffmpeg)"),
            "{e:#}"
        );

        let text = dir.path().join("notes.wav");
        std::fs::write(&text, "not audio").unwrap();
        let e = compact_copy_with(OsStr::new("ffmpeg"), &text, &cache).unwrap_err();
        assert!(
            format!("{e:#}").contains("ffmpeg could not convert"),
            "{e:#}"
        );
        assert_eq!(
            std::fs::read_dir(&cache).unwrap().count(),
            0,
            "partial file left"
        );
    }

    #[test]
    fn links_are_relative_to_the_report_and_url_encoded() {
        let root = Path::new("/data");
        assert_eq!(
            link_url(&root.join("out/talk.m4a"), &root.join("out")),
            "talk.m4a"
        );
        assert_eq!(
            link_url(&root.join("rec/my talk #2.m4a"), &root.join("out/x")),
            "../../rec/my%20talk%20%232.m4a"
        );
        assert_eq!(
            link_url(&root.join("rec/./a/../b.wav"), &root.join("out/")),
            "../rec/b.wav"
        );
        assert_eq!(
            link_url(Path::new("/data/rec/Ä.wav"), Path::new("/data")),
            "rec/%C3%84.wav"
        );
        // Relative arguments are taken from the working directory, as the shell gave them.
        assert_eq!(
            link_url(Path::new("samples/a.wav"), Path::new("out")),
            "../samples/a.wav"
        );
    }

    #[test]
    fn playable_formats_by_extension() {
        for ok in [
            "a.wav", "a.MP3", "a.ogg", "a.opus", "a.webm", "a.flac", "a.m4a", "a.aac",
        ] {
            assert!(browser_playable(Path::new(ok)), "{ok}");
        }
        for no in ["a.aiff", "a.caf", "a.mkv", "a.wma", "a", "a.txt"] {
            assert!(!browser_playable(Path::new(no)), "{no}");
        }
    }

    #[test]
    fn without_embedding_the_report_links_the_input() {
        let out =
            report_audio_for(Path::new("/data/rec/a.wav"), Path::new("/data/out"), false).unwrap();
        assert_eq!(out, ReportAudio::Linked("../rec/a.wav".into()));
        assert_eq!(
            link_url(Path::new("/d/a:b.wav"), Path::new("/d")),
            "a%3Ab.wav"
        );
    }

    #[test]
    fn embedded_copies_are_base64_data_urls() {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("c.webm");
        std::fs::write(&copy, b"\x1a\x45\xdf\xa3 opus").unwrap();
        let url = data_url(&copy).unwrap();
        let b64 = url.strip_prefix("data:audio/webm;base64,").unwrap();
        let back = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        assert_eq!(back, b"\x1a\x45\xdf\xa3 opus");
    }
}
