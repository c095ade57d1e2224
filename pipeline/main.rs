//! Entry point: parse flags, run the command, print one clear error line, exit non-zero
//! on failure (1: some inputs failed or bad usage, 130: interrupted).

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::Parser;
use spacescribe::cli::{Cli, Command};
use spacescribe::commands;

fn main() -> ExitCode {
    // The speaker model runs inside the transcription workers, which already keep every
    // core busy; candle's own thread pool would only spin against them (measured: one
    // thread each cuts diarization's CPU time by a quarter). Set before any thread starts.
    for var in ["CANDLE_NUM_THREADS", "RAYON_NUM_THREADS"] {
        if std::env::var_os(var).is_none() {
            std::env::set_var(var, "1");
        }
    }
    spacescribe::heap::use_one_arena();
    let cli = Cli::parse();
    // whisper.cpp and ggml log to stderr by default; route them to nowhere unless
    // SPACESCRIBE_LOG is set (for debugging model loading).
    if std::env::var_os("SPACESCRIBE_LOG").is_none() {
        whisper_rs::install_logging_hooks();
    }

    let interrupt = Arc::new(AtomicBool::new(false));
    let stopping = match &cli.command {
        Command::Review(_) => "stopping the review server",
        _ => "finishing the current chunks and writing outputs",
    };
    {
        let interrupt = Arc::clone(&interrupt);
        // First Ctrl-C: stop reading, finish what is in flight, write the outputs.
        // Second Ctrl-C: leave at once (outputs are written atomically, so no file is
        // ever half-written).
        let _ = ctrlc::set_handler(move || {
            if interrupt.swap(true, Ordering::SeqCst) {
                eprintln!("\ninterrupted again: exiting now");
                std::process::exit(130);
            }
            eprintln!("\ninterrupted: {stopping} (Ctrl-C again to quit now)");
        });
    }

    // SIGTERM (a scheduler pre-empting the job, a time limit) stops like Ctrl-C - the
    // chunks in flight finish and go into the journal - and exits 75 so the job is retried.
    let terminated = Arc::new(AtomicBool::new(false));
    for flag in [&terminated, &interrupt] {
        let _ = signal_hook::flag::register(signal_hook::consts::SIGTERM, Arc::clone(flag));
    }

    let result = match &cli.command {
        Command::Transcribe(args) => commands::transcribe::run(args, &interrupt),
        Command::Live(args) => commands::live::run(args, &interrupt),
        Command::Rebuild(args) => commands::rebuild::run(args),
        Command::Review(args) => commands::review::run(args, &interrupt),
        Command::Stats(args) => commands::stats::run(args),
        Command::Models { action } => commands::models::run(action),
    };
    // Ctrl-C is how a review ends, not a failure.
    if matches!(cli.command, Command::Review(_)) && matches!(result, Ok(0)) {
        return ExitCode::SUCCESS;
    }
    if let Err(e) = &result {
        eprintln!("error: {e:#}");
    }
    // 75 (EX_TEMPFAIL) for what a retry fixes, 130 for Ctrl-C, 1 for bad input.
    let code = if terminated.load(Ordering::SeqCst) {
        commands::EXIT_RETRY
    } else if interrupt.load(Ordering::SeqCst) {
        130
    } else {
        match &result {
            Ok(0) => 0,
            Ok(_) => 1,
            Err(e) if commands::is_disk_full(e) => commands::EXIT_RETRY,
            Err(_) => 1,
        }
    };
    ExitCode::from(code)
}
