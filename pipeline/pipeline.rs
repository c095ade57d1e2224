//! The only place with threads and channels.
//!
//! ```text
//! producer: source -> resampler -> segmenter --(bounded chunk channel)--> N workers
//! workers:  each owns one transcriber (one WhisperState) and shares the embedder
//! caller:   collects results, restores chunk order, drives the progress bar
//! ```
//! The chunk channel holds at most two chunks per worker, so decoding never runs far
//! ahead of transcription and memory stays flat however long the recording. Dropping a
//! sender ends the stream; an error anywhere raises `stop` so the other stages wind down.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{anyhow, Result};
use crossbeam_channel::{bounded, unbounded};

use crate::progress::Progress;
use crate::resample::{StreamResampler, WHISPER_SAMPLE_RATE};
use crate::segment::{Chunk, SegmentOptions, Segmenter};
use crate::source::AudioSource;
use crate::transcribe::{ChunkTranscriber, ChunkTranscript, LanguageLatch};
use crate::vad::SpeechProbability;

/// Everything a run produced, in time order.
#[derive(Debug, Default)]
pub struct RunOutput {
    pub chunks: Vec<ChunkTranscript>,
    /// Speech regions found by the VAD, absolute seconds, in order.
    pub speech: Vec<(f64, f64)>,
    /// Seconds of audio read.
    pub duration: f64,
    /// Set when the input ended before its end (truncated or corrupt file).
    pub stopped_early: Option<String>,
    /// Set when the user interrupted the run.
    pub interrupted: bool,
}

struct ProducerSummary {
    duration: f64,
    stopped_early: Option<String>,
}

/// Run the stream through VAD, chunking and the workers. `transcribers` (one per worker)
/// are borrowed so a batch of files reuses the loaded states.
pub fn run(
    mut source: Box<dyn AudioSource>,
    vad: Box<dyn SpeechProbability>,
    segment_opts: SegmentOptions,
    transcribers: &mut [Box<dyn ChunkTranscriber>],
    progress: &Progress,
    interrupt: &AtomicBool,
) -> Result<RunOutput> {
    let workers = transcribers.len().max(1);
    let (chunk_tx, chunk_rx) = bounded::<Chunk>(2 * workers);
    let (result_tx, result_rx) = unbounded::<(Result<ChunkTranscript>, f64, Vec<(f64, f64)>)>();
    let stop = AtomicBool::new(false);
    let language = LanguageLatch::default();

    std::thread::scope(|scope| -> Result<RunOutput> {
        let stop = &stop;
        let language = &language;
        let producer = scope.spawn(move || -> Result<ProducerSummary> {
            let result = produce(&mut *source, vad, segment_opts, &chunk_tx, stop, interrupt);
            if result.is_err() {
                stop.store(true, Ordering::SeqCst);
            }
            result
        });
        for transcriber in transcribers.iter_mut() {
            let rx = chunk_rx.clone();
            let tx = result_tx.clone();
            scope.spawn(move || {
                for chunk in rx {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let result = transcriber.transcribe(&chunk, language);
                    let failed = result.is_err();
                    let _ = tx.send((result, chunk.end(), chunk.speech));
                    if failed {
                        stop.store(true, Ordering::SeqCst);
                        break;
                    }
                }
            });
        }
        drop(chunk_rx);
        drop(result_tx);

        // Collect in chunk order; results arrive in completion order.
        let mut out = RunOutput::default();
        let mut pending = BTreeMap::new();
        let mut next_id = 0;
        let mut first_error = None;
        for (result, end, speech) in result_rx {
            match result {
                Ok(chunk) => {
                    pending.insert(chunk.id, (chunk, end, speech));
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                    continue;
                }
            }
            while let Some((chunk, end, speech)) = pending.remove(&next_id) {
                progress.set_done(end);
                out.speech.extend(speech);
                out.chunks.push(chunk);
                next_id += 1;
            }
        }
        let summary = producer
            .join()
            .map_err(|_| anyhow!("the audio reader thread panicked"))?;
        if let Some(e) = first_error {
            return Err(e);
        }
        let summary = summary?;
        out.duration = summary.duration;
        out.stopped_early = summary.stopped_early;
        out.interrupted = interrupt.load(Ordering::SeqCst);
        progress.set_done(out.duration);
        Ok(out)
    })
}

fn produce(
    source: &mut dyn AudioSource,
    vad: Box<dyn SpeechProbability>,
    segment_opts: SegmentOptions,
    chunk_tx: &crossbeam_channel::Sender<Chunk>,
    stop: &AtomicBool,
    interrupt: &AtomicBool,
) -> Result<ProducerSummary> {
    let mut resampler = StreamResampler::new(source.sample_rate())?;
    let mut segmenter = Segmenter::new(vad, segment_opts);
    let mut resampled = Vec::new();
    let mut chunks = Vec::new();
    let send_all =
        |chunks: &mut Vec<Chunk>| -> bool { chunks.drain(..).all(|c| chunk_tx.send(c).is_ok()) };
    while let Some(block) = source.next_block()? {
        if stop.load(Ordering::SeqCst) || interrupt.load(Ordering::SeqCst) {
            break;
        }
        resampled.clear();
        resampler.push(&block, &mut resampled)?;
        segmenter.push(&resampled, &mut chunks)?;
        if !send_all(&mut chunks) {
            break; // workers are gone (an error); the collector reports it
        }
    }
    resampled.clear();
    resampler.finish(&mut resampled)?;
    segmenter.push(&resampled, &mut chunks)?;
    segmenter.finish(&mut chunks)?;
    send_all(&mut chunks);
    Ok(ProducerSummary {
        duration: segmenter.samples_seen() as f64 / WHISPER_SAMPLE_RATE as f64,
        stopped_early: source.stopped_early(),
    })
}
