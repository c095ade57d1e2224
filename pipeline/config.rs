//! Flags -> checked settings. Everything that can be wrong with the command line is
//! found here, before any audio is read or model loaded.

use std::path::PathBuf;

use anyhow::Result;

use crate::cli::{EngineArgs, GpuFlag};
use crate::models::resolve_whisper_model;
use crate::transcribe::whisper::DecodeOptions;

#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub model_path: PathBuf,
    /// None = detect.
    pub language: Option<String>,
    pub workers: usize,
    pub threads_per_worker: usize,
    pub beam_size: usize,
    pub gpu: GpuFlag,
    /// Encode only the part of whisper's window the audio fills (live mode).
    pub fit_audio_ctx: bool,
}

impl EngineConfig {
    pub fn from_args(args: &EngineArgs) -> Result<Self> {
        let model_path = resolve_whisper_model(&args.model)?;
        let language = match args.language.as_str() {
            "auto" | "" => None,
            code => Some(code.to_lowercase()),
        };
        let threads = args
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1);
        let (workers, threads_per_worker) = split_threads(threads);
        if args.beam_size == 0 || args.beam_size > 16 {
            anyhow::bail!("--beam-size must be between 1 and 16");
        }
        Ok(Self {
            model_path,
            language,
            workers,
            threads_per_worker,
            beam_size: args.beam_size,
            gpu: args.gpu,
            fit_audio_ctx: false,
        })
    }

    pub fn decode_options(&self) -> DecodeOptions {
        DecodeOptions {
            language: self.language.clone(),
            beam_size: self.beam_size,
            threads: self.threads_per_worker,
            initial_prompt: None,
            fit_audio_ctx: self.fit_audio_ctx,
        }
    }
}

/// Split a thread budget into workers x threads each. Chunks are independent, so
/// parallel chunks scale better than more threads inside one whisper call; but each
/// worker holds its own whisper state, so past four workers extra threads go inside.
pub fn split_threads(threads: usize) -> (usize, usize) {
    let workers = std::env::var("SPACESCRIBE_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(threads.clamp(1, 4));
    (workers, (threads / workers).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_budget_is_never_exceeded() {
        for t in 1..=64 {
            let (w, each) = split_threads(t);
            assert!(w * each <= t, "{t}: {w}x{each}");
            assert!(w >= 1 && each >= 1);
        }
        assert_eq!(split_threads(2), (2, 1));
        assert_eq!(split_threads(16), (4, 4));
    }
}
