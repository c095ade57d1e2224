//! `spacescribe review RUN`: serve the review page for one run until Ctrl-C.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::{bail, Context, Result};

use crate::cli::ReviewArgs;
use crate::review::{server, session::Session};

pub fn run(args: &ReviewArgs, interrupt: &Arc<AtomicBool>) -> Result<usize> {
    let json_path = find_run(&args.run)?;
    let session = Session::open(&json_path, args.audio.as_deref())?;
    if let Err(note) = &session.audio {
        eprintln!("note: {note}");
    }
    let listener = TcpListener::bind((args.host.as_str(), args.port)).map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on {}:{}: {e} (another review running? pick another --port)",
            args.host,
            args.port
        )
    })?;
    let address = listener.local_addr()?;
    let url = format!("http://{address}/");
    println!("review: {url} ({}; Ctrl-C to stop)", session.title());
    std::io::stdout().flush()?;
    if !args.no_open {
        if let Err(e) = webbrowser::open(&url) {
            eprintln!("note: could not open a browser ({e}); open {url} yourself");
        }
    }
    server::serve(Arc::new(session), listener, Arc::clone(interrupt))?;
    Ok(0)
}

/// RUN is a run's `.json`, or a folder holding exactly one.
fn find_run(run: &Path) -> Result<PathBuf> {
    if !run.exists() {
        bail!("{}: no such file or folder", run.display());
    }
    if !run.is_dir() {
        if run.extension().is_some_and(|e| e == "json") {
            return Ok(run.to_path_buf());
        }
        bail!(
            "{}: give a run's .json (as transcribe wrote it) or its output folder",
            run.display()
        );
    }
    let mut runs: Vec<PathBuf> = std::fs::read_dir(run)
        .with_context(|| format!("cannot read {}", run.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.ends_with(".json") && !name.ends_with(".stats.json") && !name.starts_with('.')
        })
        .collect();
    runs.sort();
    match runs.len() {
        0 => bail!("{}: holds no run (.json)", run.display()),
        1 => Ok(runs.remove(0)),
        n => bail!(
            "{}: holds {n} runs ({}): name one",
            run.display(),
            runs.iter()
                .map(|p| p
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
