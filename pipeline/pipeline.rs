//! The only place with threads and channels.
//!
//! ```text
//! producer: source -> resampler -> segmenter --(bounded chunk channel)--> N workers
//! workers:  each owns one transcriber (one WhisperState) and shares the embedder
//! caller:   collects results, restores chunk order, drives the progress bar
//! live:     the producer also feeds a second segmenter, whose file-sized chunks one
//!           low-priority thread analyses for speakers (see `RunHooks::speaker_vad`)
//! ```
//! The chunk channel holds at most two chunks per worker, so decoding never runs far
//! ahead of transcription and memory stays flat however long the recording. Dropping a
//! sender ends the stream; an error anywhere raises `stop` so the other stages wind down.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{anyhow, Result};
use crossbeam_channel::{bounded, unbounded};

use crate::diarize::chunk_speakers::{
    analyse_chunk, utterance_windows, ChunkSpeakers, LocalSpeaker,
};
use crate::diarize::{SpeakerModels, SpeakerWindow};
use crate::profile::{self, Stage};
use crate::progress::Progress;
use crate::resample::{StreamResampler, WHISPER_SAMPLE_RATE};
use crate::segment::{Chunk, SegmentOptions, Segmenter};
use crate::source::AudioSource;
use crate::transcribe::{ChunkTranscriber, ChunkTranscript, LanguageLatch};
use crate::vad::{ReplayVad, SpeechProbability};

/// What a worker makes of one chunk: everything the final stages need from it, so a
/// journal of these lets an interrupted run resume where it stopped.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChunkResult {
    pub transcript: ChunkTranscript,
    /// End of the chunk's audio (seconds); a resumed run checks it against the chunk the
    /// segmenter makes again, so a record never stands in for different audio.
    pub end: f64,
    pub speech: Vec<(f64, f64)>,
    pub windows: Vec<SpeakerWindow>,
    pub locals: Vec<LocalSpeaker>,
    /// Quiet stretches of the chunk (see `diarize::pauses`). Absent in older journals.
    #[serde(default)]
    pub pauses: Vec<(f64, f64)>,
    /// The VAD outputs that led up to the chunk (see `Chunk::vad_calls`); a resume replays
    /// those of the journal's unbroken first chunks. Absent in older journals.
    #[serde(default)]
    pub vad_calls: Vec<Vec<f32>>,
}

/// Everything a run produced, in time order.
#[derive(Debug, Default)]
pub struct RunOutput {
    pub chunks: Vec<ChunkTranscript>,
    /// Speaker-embedding windows (empty without speaker models).
    pub windows: Vec<SpeakerWindow>,
    /// The segmentation model's local speakers, windows numbered over the whole run
    /// (empty without it).
    pub locals: Vec<LocalSpeaker>,
    /// Speech regions found by the VAD, absolute seconds, in order.
    pub speech: Vec<(f64, f64)>,
    /// Quiet stretches inside the chunks (see `diarize::pauses`), absolute seconds, chunk by
    /// chunk (neighbouring chunks' padding can overlap).
    pub pauses: Vec<(f64, f64)>,
    /// Seconds of audio read.
    pub duration: f64,
    /// Set when the input ended before its end (truncated or corrupt file).
    pub stopped_early: Option<String>,
    /// Set when the user interrupted the run.
    pub interrupted: bool,
}

impl RunOutput {
    /// Append one chunk's speaker analysis (chunks in time order).
    fn add_speakers(
        &mut self,
        speech: Vec<(f64, f64)>,
        windows: Vec<SpeakerWindow>,
        locals: Vec<LocalSpeaker>,
        pauses: Vec<(f64, f64)>,
    ) {
        self.speech.extend(speech);
        self.pauses.extend(pauses);
        self.windows.extend(windows);
        // Segmentation windows are numbered per chunk; number them over the run.
        let first_window = self.locals.last().map_or(0, |l| l.window + 1);
        self.locals.extend(locals.into_iter().map(|mut l| {
            l.window += first_window;
            l
        }));
    }
}

/// The speaker chunks' speech regions and analyses, in time order.
type SpeakerChunks = Vec<(Vec<(f64, f64)>, ChunkSpeakers)>;

/// The second segmenter of a live run (see `RunHooks::speaker_vad`) and where its
/// chunks go.
struct SpeakerChunker {
    segmenter: Segmenter,
    tx: crossbeam_channel::Sender<Chunk>,
}

impl SpeakerChunker {
    fn push(&mut self, samples: &[f32]) -> Result<()> {
        let mut chunks = Vec::new();
        self.segmenter.push(samples, &mut chunks)?;
        self.send(chunks);
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        let mut chunks = Vec::new();
        self.segmenter.finish(&mut chunks)?;
        self.send(chunks);
        Ok(())
    }

    /// A send fails only when the speaker thread has stopped on an error, which the
    /// collector reports.
    fn send(&self, chunks: Vec<Chunk>) {
        for c in chunks {
            let _ = self.tx.send(c);
        }
    }
}

struct ProducerSummary {
    duration: f64,
    stopped_early: Option<String>,
}

/// Called with every 16 kHz sample block on the reader thread.
pub type AudioTap<'a> = Box<dyn FnMut(&[f32]) -> Result<()> + Send + 'a>;
/// Called with each chunk's result (and its speech regions and speaker windows) in order.
pub type ChunkTap<'a> = Box<dyn FnMut(&ChunkTranscript, &[(f64, f64)], &[SpeakerWindow]) + 'a>;
/// Called with each newly finished chunk as soon as it is finished (any order), on the
/// calling thread; an error (a full disk) stops the run.
pub type FinishedTap<'a> = Box<dyn FnMut(&ChunkResult) -> Result<()> + 'a>;

/// Optional taps into a run, for live mode.
#[derive(Default)]
pub struct RunHooks<'a> {
    /// Every 16 kHz sample, in order, on the reader thread (the live recording).
    pub on_audio: Option<AudioTap<'a>>,
    /// Live capture: never make the reader wait for the workers (a full capture ring would
    /// drop audio); chunks queue without bound instead, and the caller reports the lag.
    pub never_block_reader: bool,
    /// Each chunk's result as soon as it is in order, on the calling thread, with the
    /// chunk's (padded) speech regions.
    pub on_chunk: Option<ChunkTap<'a>>,
    /// Chunks are single utterances, heard in order by one worker (live).
    pub utterances: bool,
    /// With speaker models: who speaks when is worked out apart from the utterances, on
    /// chunks cut as a file's are (`SegmentOptions::default()`) by a second segmenter
    /// with this VAD, on a thread of their own; the workers give each utterance only its
    /// speaker windows (for `on_chunk`). The run's speech, pauses, windows and local
    /// speakers are then those of the speaker chunks.
    pub speaker_vad: Option<Box<dyn SpeechProbability>>,
    /// Chunks finished by an earlier, interrupted run (by chunk id): used instead of
    /// transcribing them again.
    pub resume: BTreeMap<usize, ChunkResult>,
    /// Each chunk finished in this run (the resume journal).
    pub on_finished: Option<FinishedTap<'a>>,
}

/// Run the stream through VAD, chunking and the workers. `transcribers` (one per worker)
/// are borrowed so a batch of files reuses the loaded states; with `speaker_models`, the
/// workers also analyse each chunk's speakers for diarization.
#[allow(clippy::too_many_arguments)] // each is a distinct stage or control of the run
pub fn run(
    mut source: Box<dyn AudioSource>,
    vad: Box<dyn SpeechProbability>,
    segment_opts: SegmentOptions,
    transcribers: &mut [Box<dyn ChunkTranscriber>],
    speaker_models: Option<&SpeakerModels>,
    progress: &Progress,
    interrupt: &AtomicBool,
    hooks: RunHooks,
) -> Result<RunOutput> {
    let RunHooks {
        on_audio,
        never_block_reader,
        mut on_chunk,
        utterances,
        speaker_vad,
        resume,
        mut on_finished,
    } = hooks;
    let speaker_vad = speaker_vad.filter(|_| speaker_models.is_some());
    let speakers_apart = speaker_vad.is_some();
    let workers = transcribers.len().max(1);
    let (chunk_tx, chunk_rx) = if never_block_reader {
        unbounded::<Chunk>()
    } else {
        bounded::<Chunk>(2 * workers)
    };
    // Each result says whether it came from the journal (nothing new to record).
    let (result_tx, result_rx) = unbounded::<Result<(ChunkResult, bool)>>();
    let stop = AtomicBool::new(false);
    // Live: one worker hears the utterances in order, and follows their language.
    let language = if utterances && workers == 1 {
        LanguageLatch::utterance_by_utterance()
    } else {
        LanguageLatch::default()
    };
    // A resumed run keeps the language its first chunks were transcribed in.
    if let Some(lang) = resume
        .values()
        .find_map(|r| r.transcript.language.as_deref())
    {
        language.set(lang);
    }
    // Replay the VAD over the audio of the unbroken run of finished chunks from the start.
    let vad: Box<dyn SpeechProbability> = if resume.contains_key(&0) {
        let recorded = (0..)
            .map_while(|id| resume.get(&id))
            .flat_map(|r| r.vad_calls.iter().cloned())
            .collect();
        Box::new(ReplayVad::new(recorded, vad))
    } else {
        vad
    };
    let resume = &resume;

    std::thread::scope(|scope| -> Result<RunOutput> {
        let stop = &stop;
        let language = &language;
        let (speaker_tx, speaker_rx) = unbounded::<Chunk>();
        let speaker_chunker = speaker_vad.map(|vad| SpeakerChunker {
            segmenter: Segmenter::new(vad, SegmentOptions::default()),
            tx: speaker_tx,
        });
        let producer = scope.spawn(move || -> Result<ProducerSummary> {
            let result = produce(
                &mut *source,
                vad,
                segment_opts,
                &chunk_tx,
                speaker_chunker,
                stop,
                interrupt,
                on_audio,
            );
            if result.is_err() {
                stop.store(true, Ordering::SeqCst);
            }
            result
        });
        // Speakers worked out apart from the utterances: one thread, chunks in order.
        let speaker_thread = speaker_models.filter(|_| speakers_apart).map(|models| {
            scope.spawn(move || -> Result<SpeakerChunks> {
                // Nothing waits on it until the session ends; the utterance being
                // transcribed goes first.
                crate::thread_priority::lower_this_thread();
                let mut out = Vec::new();
                for chunk in speaker_rx {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let speakers = analyse_chunk(
                        &models.embedder,
                        &models.segmentation,
                        &chunk.samples,
                        chunk.start,
                        &chunk.speech,
                    );
                    match speakers {
                        Ok(speakers) => out.push((chunk.speech, speakers)),
                        Err(e) => {
                            stop.store(true, Ordering::SeqCst);
                            return Err(e);
                        }
                    }
                }
                Ok(out)
            })
        });
        for transcriber in transcribers.iter_mut() {
            let rx = chunk_rx.clone();
            let tx = result_tx.clone();
            scope.spawn(move || {
                for mut chunk in rx {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Some(done) = resume.get(&chunk.id).filter(|r| r.end == chunk.end()) {
                        let _ = tx.send(Ok((done.clone(), true)));
                        continue;
                    }
                    let vad_calls = std::mem::take(&mut chunk.vad_calls);
                    let speakers_of_chunk = || -> Result<ChunkSpeakers> {
                        let speakers = match speaker_models {
                            Some(m) if speakers_apart => ChunkSpeakers {
                                windows: utterance_windows(
                                    &m.embedder,
                                    &chunk.samples,
                                    chunk.start,
                                    &chunk.speech,
                                )?,
                                ..ChunkSpeakers::default()
                            },
                            Some(m) => analyse_chunk(
                                &m.embedder,
                                &m.segmentation,
                                &chunk.samples,
                                chunk.start,
                                &chunk.speech,
                            )?,
                            None => ChunkSpeakers::default(),
                        };
                        // The speaker models' tensors are freed by now; without this
                        // their pages stay resident through the worker's next whisper
                        // pass, on top of its new state.
                        crate::heap::return_free_pages();
                        Ok(speakers)
                    };
                    // At the start of a run whose language is not known yet, the worker
                    // on the first chunk identifies it; the others hear who speaks in
                    // theirs first, and by then the language is latched - detecting it
                    // on every chunk that starts at once costs an encoder pass each
                    // (base: about 0.5 s of thread time per worker). Not in live mode,
                    // where the speaker models hear the audio in order and latency counts.
                    let speakers_first = speaker_models.is_some()
                        && !utterances
                        && chunk.id > 0
                        && transcriber.would_detect_language(language);
                    let result = if speakers_first {
                        speakers_of_chunk().and_then(|speakers| {
                            Ok((transcriber.transcribe(&chunk, language)?, speakers))
                        })
                    } else {
                        transcriber
                            .transcribe(&chunk, language)
                            .and_then(|transcript| Ok((transcript, speakers_of_chunk()?)))
                    };
                    let result = result.map(|(transcript, speakers)| ChunkResult {
                        transcript,
                        end: chunk.end(),
                        speech: chunk.speech.clone(),
                        windows: speakers.windows,
                        locals: speakers.locals,
                        pauses: speakers.pauses,
                        vad_calls,
                    });
                    let failed = result.is_err();
                    let _ = tx.send(result.map(|r| (r, false)));
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
        for result in result_rx {
            match result {
                Ok((r, resumed)) => {
                    if let (false, Some(f)) = (resumed, on_finished.as_mut()) {
                        if let Err(e) = f(&r) {
                            stop.store(true, Ordering::SeqCst);
                            first_error.get_or_insert(e);
                        }
                    }
                    pending.insert(r.transcript.id, r);
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                    continue;
                }
            }
            while let Some(r) = pending.remove(&next_id) {
                progress.set_done(r.end);
                if let Some(f) = on_chunk.as_mut() {
                    f(&r.transcript, &r.speech, &r.windows);
                }
                if !speakers_apart {
                    out.add_speakers(r.speech, r.windows, r.locals, r.pauses);
                }
                out.chunks.push(r.transcript);
                next_id += 1;
            }
        }
        let summary = producer
            .join()
            .map_err(|_| anyhow!("the audio reader thread panicked"))?;
        if let Some(thread) = speaker_thread {
            let speakers = thread
                .join()
                .map_err(|_| anyhow!("the speaker analysis thread panicked"))?;
            match speakers {
                Ok(chunks) => {
                    for (speech, s) in chunks {
                        out.add_speakers(speech, s.windows, s.locals, s.pauses);
                    }
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
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

#[allow(clippy::too_many_arguments)]
fn produce(
    source: &mut dyn AudioSource,
    vad: Box<dyn SpeechProbability>,
    segment_opts: SegmentOptions,
    chunk_tx: &crossbeam_channel::Sender<Chunk>,
    mut speaker_chunker: Option<SpeakerChunker>,
    stop: &AtomicBool,
    interrupt: &AtomicBool,
    mut on_audio: Option<AudioTap<'_>>,
) -> Result<ProducerSummary> {
    let mut resampler = StreamResampler::new(source.sample_rate())?;
    let mut segmenter = Segmenter::new(vad, segment_opts);
    let mut resampled = Vec::new();
    let mut chunks = Vec::new();
    let debug = std::env::var_os("SPACESCRIBE_DEBUG").is_some();
    let send_all =
        |chunks: &mut Vec<Chunk>| -> bool { chunks.drain(..).all(|c| chunk_tx.send(c).is_ok()) };
    while let Some(block) = profile::time(Stage::ReadAudio, || source.next_block())? {
        if stop.load(Ordering::SeqCst) || interrupt.load(Ordering::SeqCst) {
            break;
        }
        resampled.clear();
        profile::time(Stage::ReadAudio, || resampler.push(&block, &mut resampled))?;
        if let Some(f) = on_audio.as_mut() {
            f(&resampled)?;
        }
        profile::time(Stage::VadAndChunking, || {
            segmenter.push(&resampled, &mut chunks)?;
            match speaker_chunker.as_mut() {
                Some(s) => s.push(&resampled),
                None => Ok(()),
            }
        })?;
        if debug {
            // How long after its speech ended each chunk left the segmenter (live latency).
            for c in &chunks {
                let heard = segmenter.samples_seen() as f64 / WHISPER_SAMPLE_RATE as f64;
                let speech_end = c.speech.last().map_or(c.end(), |s| s.1);
                eprintln!(
                    "chunk {} ready at {heard:.2} s, its speech ends {speech_end:.2} s",
                    c.id
                );
            }
        }
        if !send_all(&mut chunks) {
            break; // workers are gone (an error); the collector reports it
        }
    }
    resampled.clear();
    resampler.finish(&mut resampled)?;
    if let Some(f) = on_audio.as_mut() {
        f(&resampled)?;
    }
    segmenter.push(&resampled, &mut chunks)?;
    segmenter.finish(&mut chunks)?;
    send_all(&mut chunks);
    if let Some(mut s) = speaker_chunker {
        s.push(&resampled)?;
        s.finish()?;
    }
    Ok(ProducerSummary {
        duration: segmenter.samples_seen() as f64 / WHISPER_SAMPLE_RATE as f64,
        stopped_early: source.stopped_early(),
    })
}
