//! `spacescribe live`: microphone (or a file fed at real-time pace) -> the same pipeline as
//! `transcribe` with low-latency chunking -> a line per utterance as soon as it is final,
//! with a speaker label that stays stable for the session. At the end (Ctrl-C,
//! `--duration`, end of the file) the last utterance is finished and the same files as
//! `transcribe` are written, plus the 16 kHz recording as WAV.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::live_board::{stream_summary, LiveBoard};
use super::transcribe::Diarizer;
use crate::cli::LiveArgs;
use crate::config::EngineConfig;
use crate::diarize::online::OnlineSpeakers;
use crate::document::RunDocument;
use crate::models::{support_model, VAD_FILE};
use crate::pipeline::{self, RunHooks};
use crate::progress::Progress;
use crate::report::{parse_formats, write_outputs};
use crate::resample::WHISPER_SAMPLE_RATE;
use crate::segment::SegmentOptions;
use crate::source::hls::follow::SharedLog;
use crate::source::limit::Limited;
use crate::source::open::open_input;
use crate::source::ring::{ring, RingFeed};
use crate::source::{mic, AudioSource};
use crate::timefmt::hms;
use crate::transcribe::assemble;
use crate::transcript::default_speaker_label;
use crate::vad::{SileroVad, SpeechProbability};

/// Seconds of audio the capture ring holds before frames would be dropped.
const RING_SECONDS: f64 = 60.0;
/// Warn on screen when a line comes out this long after its speech ended.
const BEHIND_WARNING_S: f64 = 10.0;
/// Feed granularity for --input-file (like an audio callback's period).
const FEED_BLOCK_S: f64 = 0.02;
/// The recording's header is rewritten this often, so a hard exit leaves a valid WAV.
const WAV_FLUSH_SAMPLES: usize = WHISPER_SAMPLE_RATE as usize / 2;

/// Low latency: VAD every 0.26 s; each utterance goes to whisper as soon as its 0.3 s
/// pause is heard (not gathered with the next ones); past 5 s any dip in the speech
/// probability ends it, and none grows past 10 s, cut within its last 1.5 s. Each change
/// was measured with `scripts/bench-live` (see the README's live section).
fn live_segment_options() -> SegmentOptions {
    SegmentOptions {
        vad_block_frames: 8,
        max_chunk_s: 10.0,
        close_each_region: true,
        split_at_dip_after_s: Some(5.0),
        split_window_s: Some(1.5),
        ..SegmentOptions::default()
    }
}

pub fn run(args: &LiveArgs, interrupt: &Arc<AtomicBool>) -> Result<usize> {
    let _quiet = mic::quiet_backend_errors();
    if args.list_devices {
        let devices = mic::list_input_devices()?;
        if devices.is_empty() {
            println!("no audio input devices found");
        }
        for d in devices {
            println!("{d}");
        }
        return Ok(0);
    }
    if args.speed.is_nan() || args.speed <= 0.0 {
        bail!("--speed must be positive");
    }
    let formats = parse_formats(&args.formats)?;
    let mut engine = EngineConfig::from_args(&args.engine)?;
    // Utterances are short and come one at a time: one worker with every thread finishes
    // each sooner than several single-threaded workers would.
    engine.fit_audio_ctx = true;
    engine.threads_per_worker *= engine.workers;
    engine.workers = 1;
    let vad_path = support_model(VAD_FILE)?;
    let use_gpu = crate::gpu::resolve(engine.gpu)?;
    let diarizer = Diarizer::from_args(&args.speakers)?;
    let formats: Vec<_> = formats
        .into_iter()
        .filter(|f| diarizer.is_some() || !f.needs_speakers())
        .collect();

    // Open the input before loading models, so a missing device fails fast.
    let (rate, stem, input) = match (&args.url, &args.input_file) {
        (Some(url), _) => {
            let opened = open_input(Path::new(url), None, true, Arc::clone(interrupt))?;
            let log = opened.stream.clone().unwrap_or_default();
            let stem = format!("{}-live", opened.stem);
            (
                opened.source.sample_rate(),
                stem,
                Input::Url(opened.source, log),
            )
        }
        (None, Some(path)) => {
            let source = crate::source::open_file(path)?;
            let stem = format!(
                "{}-live",
                path.file_stem().unwrap_or_default().to_string_lossy()
            );
            (source.sample_rate(), stem, Input::File(source))
        }
        (None, None) => {
            let device = mic::find_device(args.device.as_deref())?;
            let rate = mic::device_rate(&device)?;
            let stem = format!("live-{}", unix_time_stamp());
            (rate, stem, Input::Mic(device))
        }
    };
    let stem = args.name.clone().unwrap_or(stem);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create output directory {}", args.out.display()))?;
    let mut transcribers = super::transcribe::load_transcribers(&engine, use_gpu)?;
    let vad = SileroVad::load(&vad_path)?;

    let (feed, ring_source, ring_stats) =
        ring(rate, RING_SECONDS, Arc::clone(interrupt), args.duration);
    let mut source: Box<dyn AudioSource> = Box::new(ring_source);
    let mut stream_log = None;
    let started = Instant::now();
    // The capture lives for the whole run (dropping the microphone stops its stream).
    let mut _microphone = None;
    match input {
        Input::Url(url_source, log) => {
            // Network arrival paces a stream; it needs no ring.
            source = match args.duration {
                Some(d) => Box::new(Limited::new(url_source, d)),
                None => url_source,
            };
            stream_log = Some(log);
            eprintln!(
                "following {} ; Ctrl-C to stop",
                args.url.as_deref().unwrap_or("")
            );
        }
        Input::File(file) => {
            spawn_feeder(file, feed, args.speed, Arc::clone(interrupt));
        }
        Input::Mic(device) => {
            let m = mic::start(device, feed)?;
            eprintln!(
                "listening on {} ({} Hz, {} channels); Ctrl-C to stop",
                m.name, m.rate, m.channels
            );
            _microphone = Some(m);
        }
    }

    let wav_path = args.out.join(format!("{stem}.wav"));
    let mut recorder = Recorder::create(&wav_path)?;
    let mut online = OnlineSpeakers::default();
    let mut latencies: Vec<f64> = Vec::new();
    let speed = args.speed;
    let pad = live_segment_options().pad_s;
    let progress = Progress::new("live", None, false);
    let mut board = LiveBoard::start(args)?;
    // Speakers are worked out on file-sized chunks cut by a VAD of their own.
    let speaker_vad = match &diarizer {
        Some(_) => Some(Box::new(SileroVad::load(&vad_path)?) as Box<dyn SpeechProbability>),
        None => None,
    };
    let run = pipeline::run(
        source,
        Box::new(vad),
        live_segment_options(),
        &mut transcribers,
        diarizer.as_ref().map(|d| &d.models),
        &progress,
        interrupt,
        RunHooks {
            on_audio: Some(Box::new(|samples: &[f32]| recorder.write(samples))),
            never_block_reader: true,
            utterances: true,
            speaker_vad,
            on_chunk: Some(Box::new(|chunk, speech, windows| {
                let speaker = if diarizer.is_some() {
                    online.assign(windows)
                } else {
                    None
                };
                // Received audio -> the stream's clock (they differ after a gap).
                let clock = stream_log
                    .as_ref()
                    .map(|l| l.lock().unwrap().clock.clone())
                    .unwrap_or_default();
                let mut lines = Vec::new();
                for seg in &chunk.segments {
                    let at = hms(clock.start_time(seg.start));
                    let line = match speaker {
                        Some(s) => format!("[{at}] {}: {}", default_speaker_label(s), seg.text),
                        None => format!("[{at}] {}", seg.text),
                    };
                    println!("{line}");
                    lines.push(line);
                }
                let speech_on_clock: Vec<(f64, f64)> = speech
                    .iter()
                    .map(|&(a, b)| (clock.start_time(a), clock.end_time(b)))
                    .collect();
                board.update(speaker, &speech_on_clock, &lines, clock.gaps());
                // Delay from the moment the utterance's last speech was fed to now.
                if let Some(&(_, end)) = speech.last() {
                    let speech_end = (end - pad).max(0.0);
                    let delay = match &stream_log {
                        // A stream: from the arrival of the segment holding the speech's end.
                        Some(log) => log
                            .lock()
                            .unwrap()
                            .arrival_of(speech_end)
                            .map_or(0.0, |a| a.at.elapsed().as_secs_f64()),
                        None => started.elapsed().as_secs_f64() - speech_end / speed,
                    };
                    if !chunk.segments.is_empty() {
                        latencies.push(delay);
                    }
                    if delay > BEHIND_WARNING_S {
                        eprintln!("(falling behind by {delay:.0} s; every sample is kept and will be transcribed)");
                    }
                }
            })),
            ..Default::default()
        },
    )?;
    let wav_seconds = recorder.finish()?;
    board.finish();
    let mut transcript = assemble(&run.chunks, run.duration);
    if let Some(d) = &diarizer {
        d.label(&mut transcript, &run);
    }
    if let Some(log) = &stream_log {
        let log = log.lock().unwrap();
        log.clock.apply(&mut transcript);
        eprintln!("{}", stream_summary(&log));
    }
    let doc = RunDocument::new(transcript, Some(wav_path.clone()), formats.clone());
    let report_audio = doc.report_audio(&args.out, None);
    let mut written = write_outputs(&args.out, &stem, &doc, &formats, &report_audio)?;
    let transcript = &doc.transcript;
    written.push(wav_path);
    let dropped = ring_stats.dropped.load(Ordering::Relaxed);
    eprintln!(
        "session: {} of audio, {}, {}; recording {} (16 kHz mono, 32-bit float, {:.1} s); dropped frames: {dropped}",
        hms(run.duration),
        crate::report::counted(transcript.segments.len(), "segment"),
        crate::report::counted(transcript.speakers.len(), "speaker"),
        written.last().unwrap().display(),
        wav_seconds
    );
    let summary = latency_summary(&latencies);
    if stream_log.is_some() {
        // From a stream, delays count from the arrival of the segment holding the speech.
        eprintln!(
            "{}",
            summary.replace(
                "end of utterance to its line",
                "segment arrival to its line"
            )
        );
    } else {
        eprintln!("{summary}");
    }
    eprintln!("wrote {}", crate::report::path_list(&written));
    Ok(0)
}

enum Input {
    File(Box<dyn AudioSource>),
    Mic(cpal::Device),
    Url(Box<dyn AudioSource>, SharedLog),
}

/// Push a decoded file into the ring in 20 ms blocks at wall-clock pace x `speed`, as a
/// sound card's callback would.
fn spawn_feeder(
    mut file: Box<dyn AudioSource>,
    mut feed: RingFeed,
    speed: f64,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let rate = file.sample_rate() as f64;
        let block = ((rate * FEED_BLOCK_S) as usize).max(1);
        let start = Instant::now();
        let mut fed = 0usize;
        let mut pending: Vec<f32> = Vec::new();
        loop {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            if pending.len() < block {
                match file.next_block() {
                    Ok(Some(b)) => {
                        pending.extend(b);
                        continue;
                    }
                    _ if pending.is_empty() => break,
                    _ => {}
                }
            }
            let n = pending.len().min(block);
            let due = Duration::from_secs_f64((fed + n) as f64 / rate / speed);
            if let Some(wait) = due.checked_sub(start.elapsed()) {
                std::thread::sleep(wait);
            }
            feed.push(&pending[..n]);
            pending.drain(..n);
            fed += n;
        }
        feed.finish();
    })
}

/// The session's audio as the pipeline heard it: 16 kHz mono 32-bit float, header
/// rewritten every half second.
struct Recorder {
    writer: Option<hound::WavWriter<std::io::BufWriter<std::fs::File>>>,
    since_flush: usize,
    samples: u64,
    path: PathBuf,
}

impl Recorder {
    fn create(path: &Path) -> Result<Self> {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: WHISPER_SAMPLE_RATE,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let writer = hound::WavWriter::create(path, spec)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(Self {
            writer: Some(writer),
            since_flush: 0,
            samples: 0,
            path: path.to_path_buf(),
        })
    }

    fn write(&mut self, samples: &[f32]) -> Result<()> {
        let w = self.writer.as_mut().expect("recorder is open until finish");
        for &s in samples {
            w.write_sample(s)
                .with_context(|| format!("cannot write {}", self.path.display()))?;
        }
        self.samples += samples.len() as u64;
        self.since_flush += samples.len();
        if self.since_flush >= WAV_FLUSH_SAMPLES {
            w.flush()
                .with_context(|| format!("cannot write {}", self.path.display()))?;
            self.since_flush = 0;
        }
        Ok(())
    }

    /// Seconds recorded.
    fn finish(&mut self) -> Result<f64> {
        if let Some(w) = self.writer.take() {
            w.finalize()
                .with_context(|| format!("cannot write {}", self.path.display()))?;
        }
        Ok(self.samples as f64 / WHISPER_SAMPLE_RATE as f64)
    }
}

/// "latency: median 1.2 s, p95 2.0 s over 31 utterances".
pub fn latency_summary(latencies: &[f64]) -> String {
    if latencies.is_empty() {
        return "latency: no utterances".to_string();
    }
    let mut v = latencies.to_vec();
    v.sort_by(f64::total_cmp);
    let pick = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    format!(
        "latency (end of utterance to its line): median {:.2} s, p95 {:.2} s, max {:.2} s over {} utterances",
        pick(0.5),
        pick(0.95),
        v[v.len() - 1],
        v.len()
    )
}

fn unix_time_stamp() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_percentiles() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        let s = latency_summary(&v);
        assert!(
            s.contains("median 11.00 s") && s.contains("p95 19.00 s") && s.contains("over 20"),
            "{s}"
        );
        assert_eq!(latency_summary(&[]), "latency: no utterances");
    }
}
