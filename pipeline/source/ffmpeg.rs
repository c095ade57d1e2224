//! Files symphonia cannot read, decoded by ffmpeg: Opus (YouTube's webm, WhatsApp and
//! Telegram voice notes in ogg), WMA, AC-3, AMR, and audio inside video containers it
//! does not demux.
//!
//! Why ffmpeg and not another Rust decoder: symphonia 0.6 has no Opus decoder, and
//! ffmpeg - which `scripts/setup` installs already, for the HTML report's audio copy -
//! decodes every one of these, applies their start offsets (Opus pre-skip, edit lists)
//! and streams: `ffmpeg ... -f f32le -` writes mono samples at the stream's own rate to
//! a pipe, read block by block like any other source, so memory stays flat and the
//! resampler is the same as for every other input.
//!
//! Opening runs `ffprobe` (about 40 ms) to learn whether the input has an audio stream and
//! its rate and length; ffmpeg itself starts at the first block. An input ffprobe finds no
//! audio in is not taken: the caller reports symphonia's own error for it. A stream
//! (standard input, a download) is probed on its first 64 KiB and then piped into ffmpeg
//! from its first byte, as it arrives.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};

use super::{truncation, AudioSource, PcmBlock};

/// Frames per block handed on (about a quarter of a second at 16 kHz).
const BLOCK_FRAMES: usize = 4096;

/// How much of a stream ffprobe looks at: Ogg and WebM headers sit in the first few KiB
/// (64 KiB is about 20 s of 24 kb/s Opus, read before decoding starts).
const STREAM_PROBE_BYTES: usize = 64 << 10;

/// What ffmpeg reads.
enum Input {
    File(PathBuf),
    /// A one-way stream, from its first byte; taken when ffmpeg starts.
    Stream(Option<Box<dyn Read + Send>>),
}

/// Why a file could not be handed to ffmpeg.
pub enum Unreadable {
    /// ffprobe is not installed.
    NoFfmpeg,
    /// ffprobe found no audio stream it can decode (or could not read the file at all).
    NoAudio,
}

pub struct FfmpegSource {
    /// How messages name the input.
    path: PathBuf,
    input: Input,
    sample_rate: u32,
    duration: Option<f64>,
    decoder: Option<Decoder>,
    frames: u64,
    truncation: Option<String>,
    finished: bool,
}

struct Decoder {
    child: Child,
    stdout: ChildStdout,
    /// ffmpeg's last error lines, gathered by a thread so a chatty ffmpeg never blocks
    /// on a full stderr pipe.
    errors: Arc<Mutex<Vec<String>>>,
}

impl FfmpegSource {
    /// The file's first audio stream, if ffprobe finds one.
    pub fn open(path: &Path) -> std::result::Result<Self, Unreadable> {
        let probe = ffprobe(path.as_os_str(), None)?;
        Self::from_probe(&probe, path, Input::File(path.to_path_buf()))
    }

    /// A stream's first audio stream, if ffprobe finds one in its first bytes (read from
    /// the start); ffmpeg then reads the stream from its first byte again.
    pub fn from_stream<S: Read + Seek + Send + 'static>(
        mut stream: S,
        label: &Path,
    ) -> std::result::Result<Self, Unreadable> {
        let mut head = Vec::new();
        stream
            .seek(SeekFrom::Start(0))
            .and_then(|_| {
                (&mut stream)
                    .take(STREAM_PROBE_BYTES as u64)
                    .read_to_end(&mut head)
            })
            .and_then(|_| stream.seek(SeekFrom::Start(0)))
            .map_err(|_| Unreadable::NoAudio)?;
        let probe = ffprobe("pipe:0".as_ref(), Some(head))?;
        let mut source = Self::from_probe(&probe, label, Input::Stream(Some(Box::new(stream))))?;
        // A length ffprobe gives from the first bytes is a guess from their bit rate.
        source.duration = None;
        Ok(source)
    }

    fn from_probe(
        probe: &std::process::Output,
        label: &Path,
        input: Input,
    ) -> std::result::Result<Self, Unreadable> {
        if !probe.status.success() {
            return Err(Unreadable::NoAudio);
        }
        let text = String::from_utf8_lossy(&probe.stdout);
        let field = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .map(str::trim)
        };
        let sample_rate = field("sample_rate")
            .and_then(|r| r.parse::<u32>().ok())
            .filter(|&r| r > 0)
            .ok_or(Unreadable::NoAudio)?;
        let duration = field("duration")
            .and_then(|d| d.parse::<f64>().ok())
            .filter(|d| d.is_finite() && *d > 0.0);
        Ok(Self {
            path: label.to_path_buf(),
            input,
            sample_rate,
            duration,
            decoder: None,
            frames: 0,
            truncation: None,
            finished: false,
        })
    }

    fn start(&mut self) -> Result<Decoder> {
        let mut command = Command::new("ffmpeg");
        command.args(["-v", "error"]);
        match &self.input {
            Input::File(path) => command
                .args(["-nostdin", "-i"])
                .arg(path)
                .stdin(Stdio::null()),
            Input::Stream(_) => command.args(["-i", "pipe:0"]).stdin(Stdio::piped()),
        };
        let mut child = command
            .args(["-map", "0:a:0", "-vn", "-sn", "-dn", "-ac", "1"])
            .args(["-ar", &self.sample_rate.to_string()])
            .args(["-f", "f32le", "-"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("{}: cannot start ffmpeg", self.path.display()))?;
        if let Input::Stream(stream) = &mut self.input {
            let mut stream = stream.take().expect("ffmpeg starts once");
            let mut stdin = child.stdin.take().expect("stdin is piped");
            // Ends when the stream does (ffmpeg then sees the end of its input) or when
            // ffmpeg goes (a broken pipe).
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut stream, &mut stdin);
                let _ = stdin.flush();
            });
        }
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let errors = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&errors);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut lines = sink.lock().unwrap_or_else(|e| e.into_inner());
                if lines.len() == 3 {
                    lines.remove(0);
                }
                lines.push(line);
            }
        });
        Ok(Decoder {
            child,
            stdout,
            errors,
        })
    }

    /// At the end of ffmpeg's output: did it finish the file, or stop on an error?
    fn finish(&mut self) -> Result<()> {
        self.finished = true;
        let Some(mut decoder) = self.decoder.take() else {
            return Ok(());
        };
        let status = decoder.child.wait().context("waiting for ffmpeg")?;
        let decoded_s = self.frames as f64 / f64::from(self.sample_rate);
        if status.success() {
            // ffmpeg ends a cut-off file quietly; its header still says how long it was.
            if let Some(promised) = self.duration.filter(|&d| decoded_s + 1.0 < d) {
                let reason = format!(
                    "file ends early: the header promises {}",
                    crate::timefmt::hms(promised)
                );
                self.truncation = Some(truncation(&self.path, decoded_s, &reason));
            }
        } else {
            let errors = decoder.errors.lock().unwrap_or_else(|e| e.into_inner());
            let why = errors.last().map_or("ffmpeg failed", |l| l.as_str());
            if self.frames == 0 {
                bail!("{}: ffmpeg cannot decode it ({why})", self.path.display());
            }
            self.truncation = Some(truncation(&self.path, decoded_s, why));
        }
        Ok(())
    }
}

/// ffprobe's `sample_rate=` and `duration=` lines for `input`'s first audio stream;
/// `stdin_bytes` are fed to it when `input` is `pipe:0`.
fn ffprobe(
    input: &std::ffi::OsStr,
    stdin_bytes: Option<Vec<u8>>,
) -> std::result::Result<std::process::Output, Unreadable> {
    let mut child = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "a:0"])
        .args(["-show_entries", "stream=sample_rate:format=duration"])
        .args(["-of", "default=noprint_wrappers=1"])
        .arg(input)
        .stdin(if stdin_bytes.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|_| Unreadable::NoFfmpeg)?;
    if let (Some(bytes), Some(mut stdin)) = (stdin_bytes, child.stdin.take()) {
        // ffprobe may stop reading early (it has seen enough): a broken pipe is fine.
        std::thread::spawn(move || {
            let _ = stdin.write_all(&bytes);
        });
    }
    child.wait_with_output().map_err(|_| Unreadable::NoAudio)
}

impl AudioSource for FfmpegSource {
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    fn duration_hint(&self) -> Option<f64> {
        self.duration
    }

    fn next_block(&mut self) -> Result<Option<PcmBlock>> {
        if self.finished {
            return Ok(None);
        }
        if self.decoder.is_none() {
            self.decoder = Some(self.start()?);
        }
        let decoder = self.decoder.as_mut().expect("started above");
        // ffmpeg writes whole f32 samples; a block is full unless the output ended.
        let mut bytes = vec![0u8; BLOCK_FRAMES * 4];
        let mut filled = 0;
        while filled < bytes.len() {
            let n = decoder
                .stdout
                .read(&mut bytes[filled..])
                .with_context(|| format!("{}: reading ffmpeg's output", self.path.display()))?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        bytes.truncate(filled / 4 * 4);
        if bytes.is_empty() {
            self.finish()?;
            return Ok(None);
        }
        let block: PcmBlock = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        self.frames += block.len() as u64;
        Ok(Some(block))
    }

    fn stopped_early(&self) -> Option<String> {
        self.truncation.clone()
    }
}

impl Drop for FfmpegSource {
    /// Stopped before the end (Ctrl-C, an error downstream): ffmpeg goes too.
    fn drop(&mut self) {
        if let Some(decoder) = self.decoder.as_mut() {
            let _ = decoder.child.kill();
            let _ = decoder.child.wait();
        }
    }
}
