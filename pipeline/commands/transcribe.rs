//! `spacescribe transcribe`: each input through the pipeline, then its output files.
//! One bad input is reported and counted; the rest still run.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};

use crate::cli::TranscribeArgs;
use crate::config::EngineConfig;
use crate::models::{support_model, VAD_FILE};
use crate::pipeline;
use crate::progress::Progress;
use crate::report::{parse_formats, write_outputs};
use crate::segment::SegmentOptions;
use crate::source::file::FileSource;
use crate::source::AudioSource;
use crate::transcribe::whisper::WhisperModel;
use crate::transcribe::{assemble, ChunkTranscriber};
use crate::vad::SileroVad;

pub fn run(args: &TranscribeArgs, interrupt: &AtomicBool) -> Result<usize> {
    let formats = parse_formats(&args.formats)?;
    let engine = EngineConfig::from_args(&args.engine)?;
    let vad_path = support_model(VAD_FILE)?;
    let use_gpu = false; // MERGE: gpu.rs from the cuda branch
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create output directory {}", args.out.display()))?;
    let model = WhisperModel::load(&engine.model_path, use_gpu)?;
    model.check_language(engine.language.as_deref())?;
    let mut transcribers: Vec<Box<dyn ChunkTranscriber>> = (0..engine.workers)
        .map(|_| {
            model
                .worker(engine.decode_options())
                .map(|w| Box::new(w) as Box<dyn ChunkTranscriber>)
        })
        .collect::<Result<_>>()?;

    let mut failed = 0;
    for input in &args.inputs {
        if interrupt.load(Ordering::SeqCst) {
            break;
        }
        let result = transcribe_one(
            input,
            &vad_path,
            &mut transcribers,
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
    args: &TranscribeArgs,
    formats: &[crate::report::Format],
    interrupt: &AtomicBool,
) -> Result<()> {
    let source = FileSource::open(input)?;
    let vad = SileroVad::load(vad_path)?;
    let label = input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let progress = Progress::new(&label, source.duration_hint(), !args.quiet);
    let run = pipeline::run(
        Box::new(source),
        Box::new(vad),
        SegmentOptions::default(),
        transcribers,
        &progress,
        interrupt,
    )
    .with_context(|| input.display().to_string())?;
    progress.finish();
    let transcript = assemble(&run.chunks, run.duration);
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "transcript".into());
    let written = write_outputs(&args.out, &stem, &transcript, formats)?;
    if !args.quiet {
        eprintln!(
            "{}: {} of audio, {} segments, language {} -> {}",
            input.display(),
            crate::timefmt::hms(transcript.duration),
            transcript.segments.len(),
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
    Ok(())
}
