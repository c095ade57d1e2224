//! `spacescribe transcribe`: each input through the pipeline, then speaker labels and the
//! output files. One bad input is reported and counted; the rest still run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
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
use crate::inputs::{self, Input};
use crate::journal::Journal;
use crate::models::{support_model, SEGMENTATION_MODEL_FILE, SPEAKER_MODEL_FILE, VAD_FILE};
use crate::pipeline;
use crate::profile::{self, Stage};
use crate::progress::ArchiveProgress;
use crate::provenance::{Provenance, RunSettings};
use crate::report::json::read_json;
use crate::report::{parse_formats, write_outputs, Format};
use crate::segment::SegmentOptions;
use crate::source::clip::read_clip_16k;
use crate::source::file::FileSource;
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
            &run.pauses,
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
            || args.min_speakers > args.speaker_cap()
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
                    max_speakers: args.speaker_cap(),
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
    let started = std::time::Instant::now();
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
    // The whisper model (about 0.35 s with base: reading, bf16 conversion, context) loads
    // on the other core while the speaker models load and the models and inputs are
    // hashed. It is joined when the first input needs it: a run over a finished archive
    // never waits for it, and a bad model is reported at that point, as before.
    let mut loading = Some(std::thread::spawn({
        let engine = engine.clone();
        move || load_transcribers(&engine, use_gpu)
    }));
    let diarizer = Diarizer::from_args(&args.speakers)?;
    let inputs = inputs::collect(
        &args.inputs,
        args.list.as_deref(),
        args.tree_root.as_deref(),
        &args.out,
        |p| FileSource::open(p).is_ok(),
    )?;
    if inputs.is_empty() {
        anyhow::bail!("no audio files found in the inputs given");
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create output directory {}", args.out.display()))?;
    let settings = run_settings(args, &engine, &vad_path, &formats)?;
    let progress = ArchiveProgress::new(&inputs, !args.quiet);
    // Taken from `loading` when the first input needs them.
    let mut transcribers = None;

    if args.name.is_some() && inputs.len() > 1 {
        anyhow::bail!("--name names one input's outputs: give one input with it");
    }
    let (mut done, mut skipped, mut failed) = (0, 0, 0);
    for input in &inputs {
        if interrupt.load(Ordering::SeqCst) {
            break;
        }
        // A file is known by its content; a stream (standard input, a URL) is not, so it
        // is never skipped and starts over.
        let provenance = match &input.problem {
            Some(problem) => Err(anyhow::anyhow!("{problem}")),
            None if is_stream(&input.path) => Ok(None),
            None => settings.for_input(&input.path).map(Some),
        };
        let provenance = match provenance {
            Ok(p) => p,
            Err(e) => {
                eprintln!("error: {e:#}");
                failed += 1;
                progress.file_finished(None);
                continue;
            }
        };
        let done_before = provenance
            .as_ref()
            .is_some_and(|p| up_to_date(input, p, &formats));
        if !args.force && done_before {
            if !args.quiet {
                eprintln!("skipped (up to date): {}", input.path.display());
            }
            skipped += 1;
            progress.file_finished(None);
            continue;
        }
        if let Some(loading) = loading.take() {
            let loaded = loading
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            transcribers = Some(loaded);
        }
        let result = transcribe_one(
            input,
            provenance,
            &vad_path,
            transcribers.as_deref_mut().unwrap_or_default(),
            diarizer.as_ref(),
            args,
            &formats,
            &progress,
            interrupt,
        );
        match result {
            Ok(seconds) => {
                done += 1;
                progress.file_finished(Some(seconds));
            }
            // A full disk fails every input after it too: stop, so a retry can resume.
            Err(e) if super::is_disk_full(&e) => return Err(e),
            Err(e) => {
                eprintln!("error: {e:#}");
                failed += 1;
                progress.file_finished(None);
            }
        }
    }
    progress.finish();
    if crate::profile::enabled() {
        eprint!("{}", crate::profile::report(started.elapsed()));
    }
    if inputs.len() > 1 && !args.quiet {
        eprintln!(
            "{} inputs: {done} done, {skipped} skipped (up to date), {failed} failed{}",
            inputs.len(),
            if interrupt.load(Ordering::SeqCst) {
                ", the rest not started (interrupted)"
            } else {
                ""
            }
        );
    }
    Ok(failed)
}

/// Every option that changes what a run writes (threads do not), and the model files.
fn run_settings(
    args: &TranscribeArgs,
    engine: &EngineConfig,
    vad_path: &Path,
    formats: &[Format],
) -> Result<RunSettings> {
    let s = &args.speakers;
    let mut options = BTreeMap::new();
    let mut set = |k: &str, v: String| {
        options.insert(k.to_string(), v);
    };
    set("language", format!("{:?}", engine.language));
    set("beam-size", engine.beam_size.to_string());
    set("diarize", (!s.no_diarize).to_string());
    set(
        "speakers",
        format!("{:?} {}..{}", s.speakers, s.min_speakers, s.speaker_cap()),
    );
    set("rename", s.rename.join(";"));
    set("embed-audio", args.embed_audio.to_string());
    set(
        "formats",
        formats
            .iter()
            .map(|f| f.extension())
            .collect::<Vec<_>>()
            .join(","),
    );
    let mut models = vec![
        ("whisper", engine.model_path.clone()),
        ("vad", vad_path.to_path_buf()),
    ];
    if !s.no_diarize {
        models.push(("speaker", support_model(SPEAKER_MODEL_FILE)?));
        models.push(("segmentation", support_model(SEGMENTATION_MODEL_FILE)?));
    }
    let mut enroll_clips = Vec::new();
    for value in &s.enroll {
        let (name, clip) = crate::diarize::parse_pair("--enroll", value)?;
        enroll_clips.push((format!("enroll {name}"), PathBuf::from(clip)));
    }
    let roles: Vec<(&str, &Path)> = models
        .iter()
        .map(|(role, p)| (*role, p.as_path()))
        .chain(
            enroll_clips
                .iter()
                .map(|(role, p)| (role.as_str(), p.as_path())),
        )
        .collect();
    RunSettings::new(&roles, options)
}

/// Standard input or a URL, not a file.
fn is_stream(input: &Path) -> bool {
    let text = input.to_string_lossy();
    text == "-" || crate::source::http::is_url(&text)
}

/// Done before with the same input, models and options, complete, every output there.
fn up_to_date(input: &Input, provenance: &Provenance, formats: &[Format]) -> bool {
    let file = |ext: &str| input.out_dir.join(format!("{}.{ext}", input.stem));
    if Journal::path_for(&input.out_dir, &input.stem).exists()
        || !formats.iter().all(|f| file(f.extension()).is_file())
    {
        return false;
    }
    let Ok(text) = std::fs::read_to_string(file("json")) else {
        return false;
    };
    read_json(&text).is_ok_and(|doc| !doc.partial && doc.made_by.as_ref() == Some(provenance))
}

/// One input through the pipeline, resuming from its journal; returns its audio seconds.
#[allow(clippy::too_many_arguments)] // the command's loaded state, passed down once
fn transcribe_one(
    input: &Input,
    provenance: Option<Provenance>,
    vad_path: &Path,
    transcribers: &mut [Box<dyn ChunkTranscriber>],
    diarizer: Option<&Diarizer>,
    args: &TranscribeArgs,
    formats: &[Format],
    archive: &ArchiveProgress,
    interrupt: &AtomicBool,
) -> Result<f64> {
    let opened = open_input(&input.path, args.name.as_deref(), false, Default::default())?;
    let (path, out_dir) = (&input.path, &input.out_dir);
    let stem = &opened.stem;
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create output directory {}", out_dir.display()))?;
    let report_audio = match &opened.local_file {
        Some(file) => report_audio_for(
            file,
            out_dir,
            args.embed_audio && formats.contains(&Format::Html),
        )?,
        None => Default::default(),
    };
    let vad = SileroVad::load(vad_path)?;
    let label = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Files resume from their journal; a stream (standard input, a URL) starts over.
    let mut journal = match &provenance {
        Some(p) => {
            crate::report::remove_stale_temp_files(out_dir, stem);
            Some(Journal::open(
                &Journal::path_for(out_dir, stem),
                &p.fingerprint(),
            )?)
        }
        None => None,
    };
    if let Some(aside) = journal.as_ref().and_then(|j| j.set_aside.as_ref()) {
        eprintln!(
            "note: {}: the journal there was made by another model, options or input; set aside as {}",
            path.display(),
            aside.display()
        );
    }
    let resume = journal
        .as_mut()
        .map(|j| std::mem::take(&mut j.done))
        .unwrap_or_default();
    if !resume.is_empty() && !args.quiet {
        eprintln!(
            "{}: resuming ({} chunks were done before)",
            path.display(),
            resume.len()
        );
    }
    let progress = archive.file(&label, opened.source.duration_hint());
    let run = pipeline::run(
        opened.source,
        Box::new(vad),
        SegmentOptions::default(),
        transcribers,
        diarizer.map(|d| &d.models),
        &progress,
        interrupt,
        pipeline::RunHooks {
            resume,
            on_finished: journal.as_mut().map(|j| {
                Box::new(|chunk: &pipeline::ChunkResult| j.journal.append(chunk))
                    as pipeline::FinishedTap
            }),
            ..Default::default()
        },
    )
    .with_context(|| path.display().to_string())?;
    progress.finish();
    let mut transcript = assemble(&run.chunks, run.duration);
    if let Some(d) = diarizer {
        profile::time(Stage::Clustering, || d.label(&mut transcript, &run));
    }
    let missing = opened
        .stream
        .as_ref()
        .map(|log| log.lock().unwrap().clock.clone());
    if let Some(clock) = &missing {
        clock.apply(&mut transcript);
    }
    let mut doc = RunDocument::new(transcript, opened.local_file, formats.to_vec());
    doc.embed_audio = args.embed_audio;
    doc.made_by = provenance;
    // An interrupted run's outputs cover what was done; they are never taken as finished.
    doc.partial = run.interrupted || run.stopped_early.is_some();
    let written = profile::time(Stage::Outputs, || {
        write_outputs(out_dir, stem, &doc, formats, &report_audio)
    })?;
    let transcript = &doc.transcript;
    if !args.quiet {
        eprintln!(
            "{}: {} of audio, {}, {}, language {} -> {}",
            path.display(),
            crate::timefmt::hms(transcript.duration),
            crate::report::counted(transcript.segments.len(), "segment"),
            crate::report::counted(transcript.speakers.len(), "speaker"),
            transcript.language,
            crate::report::path_list(&written)
        );
    }
    if run.interrupted {
        let resume = match &journal {
            Some(_) => format!(
                ", and the same command resumes from {}",
                Journal::path_for(out_dir, stem).display()
            ),
            None => String::new(),
        };
        anyhow::bail!(
            "{}: interrupted at {}; the output covers the audio before that{resume}",
            path.display(),
            crate::timefmt::hms(run.duration),
        );
    }
    if let Some(j) = journal {
        j.journal.remove()?;
    }
    if let Some(reason) = run.stopped_early {
        anyhow::bail!(reason);
    }
    if let Some(gap) = doc.transcript.gaps.first() {
        anyhow::bail!(
            "{}: audio missing at {} (segments that never arrived; the outputs mark where)",
            path.display(),
            crate::gaps::describe(gap)
        );
    }
    Ok(run.duration)
}
