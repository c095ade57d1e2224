//! `spacescribe rebuild RUN.json`: every output regenerated from a run's JSON - edited by
//! a person or a script, or as transcribe wrote it (then the outputs come out identical).
//! Nothing is written unless the whole document checks out.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::cli::RebuildArgs;
use crate::document::RunDocument;
use crate::edit::ops::apply_hand_edits;
use crate::report::{json::read_json, parse_formats, write_outputs, Format};

pub fn run(args: &RebuildArgs) -> Result<usize> {
    let doc = load_run(&args.run)?;
    let out = args.out.clone().unwrap_or_else(|| folder_of(&args.run));
    let formats = match &args.formats {
        Some(list) => parse_formats(list)?,
        None => doc.outputs.clone(),
    };
    let formats = formats_for(&doc, formats);
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create output directory {}", out.display()))?;
    let report_audio = doc.report_audio(&out, None);
    let written = write_outputs(&out, &run_stem(&args.run), &doc, &formats, &report_audio)?;
    eprintln!(
        "{}: rebuilt {}",
        args.run.display(),
        crate::report::path_list(&written)
    );
    Ok(0)
}

/// Read and check a run's JSON; a segment a person gave to another speaker takes its
/// words and speaking time along.
pub fn load_run(path: &Path) -> Result<RunDocument> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut doc = read_json(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    apply_hand_edits(&mut doc.transcript);
    Ok(doc)
}

/// The formats to write: none recorded means all; speaker formats only with speakers.
pub fn formats_for(doc: &RunDocument, mut formats: Vec<Format>) -> Vec<Format> {
    if formats.is_empty() {
        formats = Format::ALL.to_vec();
    }
    if doc.transcript.speakers.is_empty() {
        formats.retain(|f| !f.needs_speakers());
    }
    formats
}

/// `out/interview.json` -> `interview`.
pub fn run_stem(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.strip_suffix(".json").unwrap_or(&name).to_string()
}

pub fn folder_of(path: &Path) -> PathBuf {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}
