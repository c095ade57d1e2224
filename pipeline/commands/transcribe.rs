//! `spacescribe transcribe`: each input through the pipeline, then speaker labels and the
//! output files. One bad input is reported and counted; the rest still run.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};

use crate::audio_copy::report_audio_for;
use crate::cli::{SpeakerArgs, TranscribeArgs};
use crate::config::EngineConfig;
use crate::diarize::cluster::ClusterOptions;
use crate::diarize::embed::SpeakerEmbedder;
use crate::diarize::segmentation::Segmentation;
use crate::diarize::{label_speakers, parse_pair, SpeakerModels, SpeakerOptions};
use crate::document::RunDocument;
use crate::models::{support_model, SEGMENTATION_MODEL_FILE, SPEAKER_MODEL_FILE, VAD_FILE};
use crate::pipeline;
use crate::progress::Progress;
use crate::report::{parse_formats, write_outputs, Format};
use crate::segment::SegmentOptions;
use crate::source::clip::read_clip_16k;
use crate::source::open::open_input;
use crate::transcribe::whisper::WhisperModel;
use crate::transcribe::{assemble, ChunkTranscriber};
use crate::transcript::Transcript;
use crate::vad::SileroVad;

/// Everything needed to label speakers, loaded once for all inputs.
pub struct Diarizer {
    pub models: SpeakerModels,
    pub options: SpeakerOptions,
}

impl Diarizer {
    /// Speaker turns, names and word speakers for a finished run's transcript.
    pub fn label(&self, transcript: &mut Transcript, run: &pipeline::RunOutput) {
        label_speakers(
            transcript,
            &run.windows,
            &run.locals,
            &run.speech,
            &self.options,
        );
    }

    /// None with `--no-diarize`; checks flags and loads the models and enrollment clips.
    pub fn from_args(args: &SpeakerArgs) -> Result<Option<Self>> {
        if args.no_diarize {
            return Ok(None);
        }
        if args.speakers == Some(0)
            || args.min_speakers == 0
            || args.min_speakers > args.max_speakers
        {
            anyhow::bail!(
                "speaker counts must be at least 1, with --min-speakers <= --max-speakers"
            );
        }
        let embedder = SpeakerEmbedder::load(&support_model(SPEAKER_MODEL_FILE)?)?;
        let mut enrolled = Vec::new();
        for value in &args.enroll {
            let (name, clip) = parse_pair("--enroll", value)?;
            let samples = read_clip_16k(Path::new(&clip))
                .with_context(|| format!("--enroll {name}: cannot read {clip}"))?;
            let embedding = embedder
                .embed(&samples)
                .with_context(|| format!("--enroll {name}: {clip}"))?;
            enrolled.push((name, embedding));
        }
        let renames = args
            .rename
            .iter()
            .map(|v| parse_pair("--rename", v))
            .collect::<Result<_>>()?;
        let segmentation = Segmentation::load(&support_model(SEGMENTATION_MODEL_FILE)?)?;
        Ok(Some(Self {
            models: SpeakerModels {
                embedder,
                segmentation,
            },
            options: SpeakerOptions {
                cluster: ClusterOptions {
                    num_speakers: args.speakers,
                    min_speakers: args.min_speakers,
                    max_speakers: args.max_speakers,
                },
                enrolled,
                renames,
            },
        }))
    }
}

/// The whisper model and one worker (one whisper state) per thread of the pool; the
/// language is checked against the model before any audio is read.
pub fn load_transcribers(
    engine: &EngineConfig,
    use_gpu: bool,
) -> Result<Vec<Box<dyn ChunkTranscriber>>> {
    let model = WhisperModel::load(&engine.model_path, use_gpu)?;
    model.check_language(engine.language.as_deref())?;
    (0..engine.workers)
        .map(|_| {
            model
                .worker(engine.decode_options())
                .map(|w| Box::new(w) as Box<dyn ChunkTranscriber>)
        })
        .collect()
}

pub fn run(args: &TranscribeArgs, interrupt: &AtomicBool) -> Result<usize> {
    let mut formats = parse_formats(&args.formats)?;
    if args.speakers.no_diarize {
        // Speaker-only formats make no sense without speakers; asked for explicitly, say so.
        if args.formats != "all" && formats.iter().any(|f| f.needs_speakers()) {
            anyhow::bail!(
                "rttm, stats, html and docx outputs need speaker labels: drop --no-diarize"
            );
        }
        formats.retain(|f| !f.needs_speakers());
    }
    let engine = EngineConfig::from_args(&args.engine)?;
    let vad_path = support_model(VAD_FILE)?;
    let use_gpu = crate::gpu::resolve(engine.gpu)?;
    let diarizer = Diarizer::from_args(&args.speakers)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create output directory {}", args.out.display()))?;
    let mut transcribers = load_transcribers(&engine, use_gpu)?;

    if args.name.is_some() && args.inputs.len() > 1 {
        anyhow::bail!("--name names one input's outputs: give one input with it");
    }
    let mut failed = 0;
    for input in &args.inputs {
        if interrupt.load(Ordering::SeqCst) {
            break;
        }
        let result = transcribe_one(
            input,
            &vad_path,
            &mut transcribers,
            diarizer.as_ref(),
            args,
            &formats,
            interrupt,
        );
        if let Err(e) = result {
            eprintln!("error: {e:#}");
            failed += 1;
        }
    }
    Ok(failed)
}

fn transcribe_one(
    input: &Path,
    vad_path: &Path,
    transcribers: &mut [Box<dyn ChunkTranscriber>],
    diarizer: Option<&Diarizer>,
    args: &TranscribeArgs,
    formats: &[Format],
    interrupt: &AtomicBool,
) -> Result<()> {
    let opened = open_input(input, args.name.as_deref(), false, Default::default())?;
    let report_audio = match &opened.local_file {
        Some(file) => report_audio_for(
            file,
            &args.out,
            args.embed_audio && formats.contains(&Format::Html),
        )?,
        None => Default::default(),
    };
    let vad = SileroVad::load(vad_path)?;
    let label = input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let progress = Progress::new(&label, opened.source.duration_hint(), !args.quiet);
    let run = pipeline::run(
        opened.source,
        Box::new(vad),
        SegmentOptions::default(),
        transcribers,
        diarizer.map(|d| &d.models),
        &progress,
        interrupt,
        pipeline::RunHooks::default(),
    )
    .with_context(|| input.display().to_string())?;
    progress.finish();
    let mut transcript = assemble(&run.chunks, run.duration);
    if let Some(d) = diarizer {
        d.label(&mut transcript, &run);
    }
    let missing = opened
        .stream
        .as_ref()
        .map(|log| log.lock().unwrap().clock.clone());
    if let Some(clock) = &missing {
        clock.apply(&mut transcript);
    }
    let stem = opened.stem;
    let mut doc = RunDocument::new(transcript, opened.local_file, formats.to_vec());
    doc.embed_audio = args.embed_audio;
    let written = write_outputs(&args.out, &stem, &doc, formats, &report_audio)?;
    let transcript = &doc.transcript;
    if !args.quiet {
        eprintln!(
            "{}: {} of audio, {} segments, {} speakers, language {} -> {}",
            input.display(),
            crate::timefmt::hms(transcript.duration),
            transcript.segments.len(),
            transcript.speakers.len(),
            transcript.language,
            written
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if run.interrupted {
        anyhow::bail!(
            "{}: interrupted at {}; the output covers the audio before that",
            input.display(),
            crate::timefmt::hms(run.duration)
        );
    }
    if let Some(reason) = run.stopped_early {
        anyhow::bail!(reason);
    }
    if let Some(gap) = doc.transcript.gaps.first() {
        anyhow::bail!(
            "{}: audio missing at {} (segments that never arrived; the outputs mark where)",
            input.display(),
            crate::gaps::describe(gap)
        );
    }
    Ok(())
}
