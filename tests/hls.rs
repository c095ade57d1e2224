//! URL inputs against a small HTTP server started inside each test on 127.0.0.1, serving
//! HLS cut from `samples/interview.wav` with ffmpeg: a finished playlist (replay), a live
//! playlist the server grows on a clock and then ends, the same with a dropped connection
//! and a segment that stays 404, AES-128 segments; and standard input.

mod common;

use common::*;
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

/// Segment length ffmpeg is asked for, and how much faster than real time the live
/// playlist grows (the client refreshes every target duration, as the playlist asks).
const SEGMENT_S: u32 = 2;
const LIVE_SPEED: f64 = 4.0;
/// Segments a live playlist lists at once (older ones slide out).
const LIVE_WINDOW: usize = 12;

/// The stream every test serves, cut once: AAC in MP4 (file mode reads it), the same
/// packets as an HLS ADTS/TS playlist, and an AES-128 encrypted TS playlist.
struct Cut {
    dir: PathBuf,
    /// (segment file name, EXTINF seconds) of the TS playlist.
    segments: Vec<(String, f64)>,
}

fn cut() -> &'static Cut {
    static CUT: OnceLock<Cut> = OnceLock::new();
    CUT.get_or_init(|| {
        // Under target/ (remade each run), so test runs leave nothing in /tmp.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hls-cut");
        std::fs::create_dir_all(dir.join("enc")).unwrap();
        let ffmpeg = |args: &[&str]| {
            let s = Command::new("ffmpeg")
                .args(["-v", "error", "-y"])
                .args(args)
                .current_dir(&dir)
                .status()
                .expect("ffmpeg");
            assert!(s.success(), "ffmpeg {args:?}");
        };
        let wav = sample("interview.wav");
        ffmpeg(&[
            "-i",
            wav.to_str().unwrap(),
            "-c:a",
            "aac",
            "-b:a",
            "64k",
            "interview-aac.m4a",
        ]);
        ffmpeg(&[
            "-i",
            "interview-aac.m4a",
            "-c",
            "copy",
            "-f",
            "hls",
            "-hls_time",
            &SEGMENT_S.to_string(),
            "-hls_list_size",
            "0",
            "-hls_playlist_type",
            "vod",
            "-hls_segment_filename",
            "s%03d.ts",
            "vod.m3u8",
        ]);
        // Opus in WebM, as YouTube serves audio: symphonia has no Opus decoder (ffmpeg's).
        ffmpeg(&[
            "-i",
            wav.to_str().unwrap(),
            "-c:a",
            "libopus",
            "-b:a",
            "32k",
            "interview-opus.webm",
        ]);
        std::fs::write(dir.join("enc/k.key"), [0x5au8; 16]).unwrap();
        std::fs::write(dir.join("enc/keyinfo"), "k.key\nenc/k.key\n").unwrap();
        ffmpeg(&[
            "-i",
            "interview-aac.m4a",
            "-c",
            "copy",
            "-f",
            "hls",
            "-hls_time",
            "4",
            "-hls_list_size",
            "0",
            "-hls_playlist_type",
            "vod",
            "-hls_key_info_file",
            "enc/keyinfo",
            "-hls_segment_filename",
            "enc/e%03d.ts",
            "enc/vod.m3u8",
        ]);
        let playlist = std::fs::read_to_string(dir.join("vod.m3u8")).unwrap();
        let mut segments = Vec::new();
        let mut duration = None;
        for line in playlist.lines() {
            if let Some(d) = line.strip_prefix("#EXTINF:") {
                duration = Some(d.trim_end_matches(',').parse::<f64>().unwrap());
            } else if !line.starts_with('#') && !line.is_empty() {
                segments.push((line.to_string(), duration.take().unwrap()));
            }
        }
        assert!(segments.len() > 20, "{playlist}");
        Cut { dir, segments }
    })
}

/// What the server does wrong on purpose.
#[derive(Default, Clone)]
struct Faults {
    /// This segment answers 404, always.
    gone: Option<String>,
    /// This segment's first request is cut off half-way.
    drop_once: Option<String>,
}

/// A tiny HTTP/1.1 server on 127.0.0.1 (one thread per connection), stopped on drop.
struct Server {
    port: u16,
    stop: Arc<AtomicBool>,
    /// Paths requested, in order.
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(faults: Faults) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let started = Instant::now();
        let dropped = Arc::new(Mutex::new(HashSet::new()));
        {
            let (stop, log) = (Arc::clone(&stop), Arc::clone(&log));
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let (log, faults, dropped) =
                        (Arc::clone(&log), faults.clone(), Arc::clone(&dropped));
                    std::thread::spawn(move || handle(conn, started, &faults, &log, &dropped));
                }
            });
        }
        Server { port, stop, log }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn handle(
    mut conn: TcpStream,
    started: Instant,
    faults: &Faults,
    log: &Mutex<Vec<String>>,
    dropped: &Mutex<HashSet<String>>,
) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
    }
    let path = request
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .trim_start_matches('/')
        .to_string();
    log.lock().unwrap().push(path.clone());
    let name = path.rsplit('/').next().unwrap_or("").to_string();
    let body: Option<(Vec<u8>, &str)> = if let Some(n) = live_length(&path) {
        Some((
            live_playlist(started.elapsed().as_secs_f64(), n).into_bytes(),
            "application/vnd.apple.mpegurl",
        ))
    } else if faults.gone.as_deref() == Some(name.as_str()) {
        None
    } else {
        std::fs::read(cut().dir.join(&path))
            .ok()
            .map(|b| (b, "application/octet-stream"))
    };
    let Some((body, kind)) = body else {
        let _ = conn
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = conn.write_all(head.as_bytes());
    if faults.drop_once.as_deref() == Some(name.as_str()) && dropped.lock().unwrap().insert(name) {
        // Half the body, then the connection goes away.
        let _ = conn.write_all(&body[..body.len() / 2]);
        let _ = conn.shutdown(std::net::Shutdown::Both);
        return;
    }
    let _ = conn.write_all(&body);
}

/// `live.m3u8` grows to the whole cut, `live-N.m3u8` to its first N segments.
fn live_length(path: &str) -> Option<usize> {
    let all = cut().segments.len();
    match path.strip_prefix("live")?.strip_suffix(".m3u8")? {
        "" => Some(all),
        n => n.strip_prefix('-')?.parse().ok().map(|n: usize| n.min(all)),
    }
}

/// The live playlist `elapsed` seconds after the server started: a segment appears once
/// its audio has "happened" (at LIVE_SPEED), the oldest slide out, and ENDLIST closes it.
fn live_playlist(elapsed: f64, length: usize) -> String {
    let segs = &cut().segments[..length];
    let mut t = 0.0;
    let mut published: usize = 0;
    for (_, d) in segs {
        t += d / LIVE_SPEED;
        if t > elapsed {
            break;
        }
        published += 1;
    }
    let first = published.saturating_sub(LIVE_WINDOW);
    let mut out = format!(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:{SEGMENT_S}\n#EXT-X-MEDIA-SEQUENCE:{first}\n"
    );
    for (name, d) in &segs[first..published] {
        out += &format!("#EXTINF:{d:.6},\n{name}\n");
    }
    if published == segs.len() {
        out += "#EXT-X-ENDLIST\n";
    }
    out
}

/// `transcribe --quiet -m tiny.en --formats FORMATS -o OUT [extra...] INPUT`.
fn transcribe(out: &Path, formats: &str, extra: &[&str], input: &str) -> std::process::Output {
    let mut args = vec![
        "transcribe",
        "--quiet",
        "-m",
        "tiny.en",
        "--formats",
        formats,
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args.push(input);
    spacescribe(&args)
}

/// Words of a txt transcript, without the lines that mark missing audio.
fn words(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| !l.contains("(audio missing"))
        .map(|l| format!("{l}\n"))
        .collect();
    let tmp = path.with_extension("words.txt");
    std::fs::write(&tmp, kept).unwrap();
    transcript_text(&tmp)
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn reference() -> String {
    std::fs::read_to_string(sample("interview.ref.txt")).unwrap()
}

/// File mode on the very audio the stream carries: (WER, speaker count).
fn file_mode() -> &'static (f64, u64) {
    static FILE: OnceLock<(f64, u64)> = OnceLock::new();
    FILE.get_or_init(|| {
        let out = tempfile::tempdir().unwrap();
        let input = cut().dir.join("interview-aac.m4a");
        let o = transcribe(
            out.path(),
            "txt,json,stats.json",
            &[],
            input.to_str().unwrap(),
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let w = wer(&reference(), &words(&out.path().join("interview-aac.txt")));
        let n = json(&out.path().join("interview-aac.stats.json"))["num_speakers"]
            .as_u64()
            .unwrap();
        (w, n)
    })
}

fn wav_seconds(p: &Path) -> f64 {
    let r = hound::WavReader::open(p).unwrap();
    r.duration() as f64 / r.spec().sample_rate as f64
}

fn served_seconds() -> f64 {
    cut().segments.iter().map(|s| s.1).sum()
}

#[test]
fn a_finished_playlist_replays_like_the_file() {
    require_models();
    let server = Server::start(Faults::default());
    let out = tempfile::tempdir().unwrap();
    let o = transcribe(
        out.path(),
        "txt,json,stats.json",
        &[],
        &server.url("vod.m3u8"),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let w = wer(&reference(), &words(&out.path().join("vod.txt")));
    let (w_file, n_file) = *file_mode();
    eprintln!("WER replay {w:.4} vs file {w_file:.4}");
    assert!(w <= w_file + 0.02, "replay WER {w:.3} vs file {w_file:.3}");
    assert_eq!(
        json(&out.path().join("vod.stats.json"))["num_speakers"]
            .as_u64()
            .unwrap(),
        n_file
    );
    let d = json(&out.path().join("vod.json"))["duration"]
        .as_f64()
        .unwrap();
    assert!(
        (d - served_seconds()).abs() < 0.2,
        "{d} vs {}",
        served_seconds()
    );
    // Streamed, not fetched whole first: every segment asked for once, in order.
    let log = server.log.lock().unwrap().clone();
    let segs: Vec<&String> = log.iter().filter(|p| p.ends_with(".ts")).collect();
    assert_eq!(segs.len(), cut().segments.len());
    assert!(segs.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn aes128_segments_decode_and_name_sets_the_stem() {
    require_models();
    let server = Server::start(Faults::default());
    let out = tempfile::tempdir().unwrap();
    let o = transcribe(
        out.path(),
        "txt",
        &["--no-diarize", "--name", "talk"],
        &server.url("enc/vod.m3u8"),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let w = wer(&reference(), &words(&out.path().join("talk.txt")));
    assert!(w <= file_mode().0 + 0.02, "encrypted replay WER {w:.3}");
    assert!(server.log.lock().unwrap().iter().any(|p| p == "enc/k.key"));
}

#[test]
fn a_live_playlist_is_followed_to_its_end() {
    require_models();
    let server = Server::start(Faults::default());
    let out = tempfile::tempdir().unwrap();
    let o = spacescribe(&[
        "live",
        "-m",
        "tiny.en",
        "--formats",
        "txt,json,stats.json",
        "-o",
        out.path().to_str().unwrap(),
        "--url",
        &server.url("live.m3u8"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "stream: {} segments fetched, 0 lost",
            cut().segments.len()
        )),
        "{err}"
    );
    // Refreshed as it grew, never more often than the playlist asks (plus first tries).
    let refreshes = server
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|p| *p == "live.m3u8")
        .count();
    let expected = served_seconds() / LIVE_SPEED / SEGMENT_S as f64;
    assert!(
        refreshes as f64 >= expected * 0.8 && refreshes as f64 <= expected * 2.0 + 4.0,
        "{refreshes} refreshes, about {expected:.0} expected"
    );
    let rec = wav_seconds(&out.path().join("live-live.wav"));
    eprintln!("recorded {rec:.3} s of {:.3} s served", served_seconds());
    assert!(
        (rec - served_seconds()).abs() < 0.15,
        "recorded {rec:.2} s of {:.2}",
        served_seconds()
    );
    let w = wer(&reference(), &words(&out.path().join("live-live.txt")));
    let (w_file, n_file) = *file_mode();
    eprintln!("WER live HLS {w:.4} vs file {w_file:.4}");
    assert!(w <= w_file + 0.02, "live WER {w:.3} vs file {w_file:.3}");
    assert_eq!(
        json(&out.path().join("live-live.stats.json"))["num_speakers"]
            .as_u64()
            .unwrap(),
        n_file
    );
}

#[test]
fn a_dropped_connection_is_retried_and_a_lost_segment_is_a_reported_gap() {
    require_models();
    // The first 20 segments (about 40 s), without speakers: this test is about the stream.
    let segs = &cut().segments[..20];
    let served: f64 = segs.iter().map(|s| s.1).sum();
    let (lost, dropped) = (12, 5);
    let server = Server::start(Faults {
        gone: Some(segs[lost].0.clone()),
        drop_once: Some(segs[dropped].0.clone()),
    });
    let out = tempfile::tempdir().unwrap();
    let o = spacescribe(&[
        "live",
        "-m",
        "tiny.en",
        "--no-diarize",
        "--formats",
        "txt,json",
        "--name",
        "faulty",
        "-o",
        out.path().to_str().unwrap(),
        "--url",
        &server.url("live-20.m3u8"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    let gap_start: f64 = segs[..lost].iter().map(|s| s.1).sum();
    let gap_len = segs[lost].1;
    assert!(
        err.contains(&format!(
            "stream: {} segments fetched, 1 lost",
            segs.len() - 1
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("note: segment {dropped}:")),
        "the drop is retried and said: {err}"
    );
    assert!(err.contains("warning: audio missing at 00:00:2"), "{err}");
    let run_json = json(&out.path().join("faulty.json"));
    let gap = &run_json["gaps"][0];
    let rec = wav_seconds(&out.path().join("faulty.wav"));
    eprintln!(
        "gap {gap} expected {gap_start:.3}-{:.3}; recorded {rec:.3} s of {served:.3} s served",
        gap_start + gap_len
    );
    assert!(
        (gap["start"].as_f64().unwrap() - gap_start).abs() < 0.05,
        "{gap} vs {gap_start}"
    );
    assert!(
        (gap["end"].as_f64().unwrap() - gap_start - gap_len).abs() < 0.05,
        "{gap}"
    );
    let txt = std::fs::read_to_string(out.path().join("faulty.txt")).unwrap();
    assert!(txt.contains("(audio missing until"), "{txt}");
    // The recording holds what arrived; the outputs keep the stream's clock.
    assert!(
        (rec - (served - gap_len)).abs() < 0.15,
        "recorded {rec:.2} s"
    );
    let d = run_json["duration"].as_f64().unwrap();
    assert!((d - served).abs() < 0.2, "duration {d}");
    let after: Vec<f64> = run_json["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start"].as_f64().unwrap())
        .filter(|&s| s >= gap_start)
        .collect();
    assert!(
        after.iter().all(|&s| s >= gap_start + gap_len - 0.05),
        "no text inside the gap: {after:?}"
    );
}

#[test]
fn standard_input_gives_the_file_transcript() {
    require_models();
    let out = tempfile::tempdir().unwrap();
    let input = sample("interview.m4a");
    let mut child = Command::new(env!("CARGO_BIN_EXE_spacescribe"))
        .args([
            "transcribe",
            "--quiet",
            "-m",
            "tiny.en",
            "--no-diarize",
            "--formats",
            "txt",
            "-o",
            out.path().to_str().unwrap(),
            "-",
        ])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&std::fs::read(&input).unwrap()).unwrap();
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let o = transcribe(
        out.path(),
        "txt",
        &["--no-diarize"],
        input.to_str().unwrap(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(out.path().join("stdin.txt")).unwrap(),
        std::fs::read_to_string(out.path().join("interview.txt")).unwrap()
    );
}

#[test]
fn bad_urls_are_one_clear_error() {
    let server = Server::start(Faults::default());
    std::fs::write(
        cut().dir.join("page.html"),
        "<!doctype html><html><body>a page</body></html>",
    )
    .unwrap();
    std::fs::write(
        cut().dir.join("empty.m3u8"),
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-ENDLIST\n",
    )
    .unwrap();
    let playlist = std::fs::read_to_string(cut().dir.join("enc/vod.m3u8")).unwrap();
    std::fs::write(
        cut().dir.join("enc/expired.m3u8"),
        playlist.replace("k.key", "expired.key"),
    )
    .unwrap();
    let refused = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    for (url, says) in [
        (server.url("missing.m3u8"), "not found (HTTP 404)"),
        (
            format!("http://127.0.0.1:{refused}/a.m3u8"),
            "connection failed",
        ),
        (server.url("page.html"), "web page, not audio"),
        (server.url("empty.m3u8"), "no audio segments"),
        (
            server.url("enc/expired.m3u8"),
            "decryption key not found (HTTP 404)",
        ),
    ] {
        let out = tempfile::tempdir().unwrap();
        let o = spacescribe(&[
            "transcribe",
            "--quiet",
            "-m",
            "tiny.en",
            "-o",
            out.path().to_str().unwrap(),
            &url,
        ]);
        let err = stderr(&o);
        assert!(!o.status.success(), "{url}");
        assert_eq!(err.lines().count(), 1, "{url}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(says),
            "{url}: {err}"
        );
    }
}

/// GET `path` from 127.0.0.1:`port`; the raw response (headers and body) up to `limit`
/// bytes or the end.
fn http_get(port: u16, path: &str, limit: usize) -> String {
    use std::io::Read;
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while got.len() < limit {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
        if String::from_utf8_lossy(&got).contains("\"speakers\":[{") {
            break;
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn the_board_is_served_and_pushes_updates() {
    require_models();
    let server = Server::start(Faults::default());
    let out = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_spacescribe"))
        .args([
            "live",
            "-m",
            "tiny.en",
            "--formats",
            "txt",
            "--serve",
            "0",
            "-o",
        ])
        .arg(out.path())
        .args(["--url", &server.url("live-10.m3u8")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let port: u16 = loop {
        line.clear();
        assert!(err.read_line(&mut line).unwrap() > 0, "no board line");
        if let Some(url) = line.trim().strip_prefix("board: http://") {
            break url
                .trim_end_matches('/')
                .rsplit(':')
                .next()
                .unwrap()
                .parse()
                .unwrap();
        }
    };
    let page = http_get(port, "/", 1 << 20);
    assert!(
        page.starts_with("HTTP/1.1 200") && page.contains("EventSource('/events')"),
        "{page}"
    );
    // The event stream sends the state at once, then each change: wait for a speaker.
    let events = http_get(port, "/events", 1 << 20);
    assert!(events.contains("text/event-stream"), "{events}");
    assert!(
        events.contains("event: board") && events.contains("\"speakers\":[{\"seconds\""),
        "{events}"
    );
    let rest: String = err
        .lines()
        .map_while(Result::ok)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(child.wait().unwrap().success(), "{rest}");
}

/// WER of `file` transcribed from its URL on the test server (no speakers).
fn url_wer(file: &str) -> f64 {
    let server = Server::start(Faults::default());
    let out = tempfile::tempdir().unwrap();
    let o = transcribe(out.path(), "txt", &["--no-diarize"], &server.url(file));
    assert!(o.status.success(), "{}", stderr(&o));
    let stem = Path::new(file).file_stem().unwrap().to_str().unwrap();
    wer(
        &reference(),
        &words(&out.path().join(format!("{stem}.txt"))),
    )
}

#[test]
fn a_direct_audio_url_is_transcribed_as_it_downloads() {
    require_models();
    let w = url_wer("interview-aac.m4a");
    assert!(w <= file_mode().0 + 0.005, "direct URL WER {w:.3}");
}

/// Opus in WebM over HTTP: symphonia cannot decode it, so the download's spool is read again
/// from its first byte by ffmpeg - the same words as the AAC file.
#[test]
fn an_opus_webm_url_is_decoded_by_ffmpeg_as_it_downloads() {
    require_models();
    let w = url_wer("interview-opus.webm");
    assert!(w <= file_mode().0 + 0.03, "Opus URL WER {w:.3}");
}
