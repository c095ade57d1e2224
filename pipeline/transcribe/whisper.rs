//! whisper.cpp through whisper-rs: one shared `WhisperContext` (the weights), one
//! `WhisperState` per worker thread (its scratch memory), `FullParams` built per call
//! because it borrows.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
};

use super::quality::{covered_fraction, judge, SegmentScores};
use super::words::{tokens_to_words, TimedToken};
use super::{ChunkTranscriber, ChunkTranscript};
use crate::segment::Chunk;
use crate::transcript::Segment;

const GGML_MAGIC: u32 = 0x6767_6d6c;

#[derive(Debug, Clone)]
pub struct DecodeOptions {
    /// ISO code ("en", "de") or None to detect per chunk.
    pub language: Option<String>,
    /// 1 = greedy decoding (best_of 1); more = beam search of that width.
    pub beam_size: usize,
    /// Compute threads for each worker's whisper calls.
    pub threads: usize,
    pub initial_prompt: Option<String>,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            language: None,
            beam_size: 1,
            threads: 1,
            initial_prompt: None,
        }
    }
}

/// The loaded weights, shared by all workers.
pub struct WhisperModel {
    ctx: Arc<WhisperContext>,
    path: PathBuf,
    eot: i32,
    multilingual: bool,
}

impl WhisperModel {
    pub fn load(path: &Path, use_gpu: bool) -> Result<Self> {
        check_ggml_file(path)?;
        let mut params = WhisperContextParameters::default();
        params.use_gpu = use_gpu;
        // Flash attention on the GPU is the fast path; on CPU it brings little.
        params.flash_attn = use_gpu;
        let ctx = WhisperContext::new_with_params(path, params)
            .map_err(|e| anyhow!("cannot load whisper model {}: {e:?}", path.display()))?;
        Ok(Self {
            eot: ctx.token_eot(),
            multilingual: ctx.is_multilingual(),
            ctx: Arc::new(ctx),
            path: path.to_path_buf(),
        })
    }

    pub fn is_multilingual(&self) -> bool {
        self.multilingual
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Check a `--language` value against this model before any audio is read.
    pub fn check_language(&self, language: Option<&str>) -> Result<()> {
        match language {
            None => Ok(()),
            Some(lang) if whisper_rs::get_lang_id(lang).is_none() => {
                bail!("unknown language code '{lang}' (use auto, en, de, fr, es, ...)")
            }
            Some(lang) if !self.multilingual && lang != "en" => bail!(
                "model {} is English-only; for '{lang}' use a multilingual model such as base",
                self.path.display()
            ),
            Some(_) => Ok(()),
        }
    }

    pub fn worker(&self, opts: DecodeOptions) -> Result<WhisperWorker> {
        let state = self
            .ctx
            .create_state()
            .map_err(|e| anyhow!("cannot allocate whisper state: {e:?}"))?;
        Ok(WhisperWorker {
            _ctx: Arc::clone(&self.ctx),
            state,
            eot: self.eot,
            multilingual: self.multilingual,
            opts,
        })
    }
}

/// Fail early, in words, on a path that is not a whisper ggml file (whisper.cpp would
/// only return a null pointer).
fn check_ggml_file(path: &Path) -> Result<()> {
    let mut f = std::fs::File::open(path)
        .with_context(|| format!("whisper model not found: {}", path.display()))?;
    let mut magic = [0u8; 4];
    f.read_exact(&mut magic).map_err(|_| {
        anyhow!(
            "{} is not a whisper ggml model (file too short)",
            path.display()
        )
    })?;
    if u32::from_le_bytes(magic) != GGML_MAGIC {
        bail!("{} is not a whisper ggml model (bad magic)", path.display());
    }
    Ok(())
}

pub struct WhisperWorker {
    // Keeps the weights alive as long as the state that points into them.
    _ctx: Arc<WhisperContext>,
    state: WhisperState,
    eot: i32,
    multilingual: bool,
    opts: DecodeOptions,
}

impl ChunkTranscriber for WhisperWorker {
    fn transcribe(&mut self, chunk: &Chunk) -> Result<ChunkTranscript> {
        let strategy = if self.opts.beam_size > 1 {
            SamplingStrategy::BeamSearch {
                beam_size: self.opts.beam_size as i32,
                patience: -1.0,
            }
        } else {
            SamplingStrategy::Greedy { best_of: 1 }
        };
        let mut params = FullParams::new(strategy);
        params.set_n_threads(self.opts.threads as i32);
        let language = if self.multilingual {
            self.opts.language.as_deref()
        } else {
            Some("en")
        };
        params.set_language(language);
        params.set_translate(false);
        // Each chunk stands alone: carrying text across chunks is how whisper loops.
        params.set_no_context(true);
        params.set_token_timestamps(true);
        params.set_suppress_blank(true);
        params.set_suppress_nst(true);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_timestamps(false);
        params.set_print_special(false);
        if let Some(prompt) = &self.opts.initial_prompt {
            params.set_initial_prompt(prompt);
        }
        self.state
            .full(params, &chunk.samples)
            .map_err(|e| anyhow!("whisper failed on chunk at {:.1} s: {e:?}", chunk.start))?;

        let detected =
            whisper_rs::get_lang_str(self.state.full_lang_id_from_state()).map(str::to_string);
        let mut out = ChunkTranscript {
            id: chunk.id,
            language: language.map(str::to_string).or(detected),
            ..Default::default()
        };
        for seg in self.state.as_iter() {
            let mut tokens = Vec::new();
            let mut logprob_sum = 0.0f32;
            for i in 0..seg.n_tokens() {
                let Some(tok) = seg.get_token(i) else {
                    continue;
                };
                let data = tok.token_data();
                if data.id >= self.eot {
                    continue; // special and timestamp tokens
                }
                logprob_sum += data.plog;
                tokens.push(TimedToken {
                    bytes: tok.to_bytes().unwrap_or_default().to_vec(),
                    start: chunk.start + data.t0 as f64 / 100.0,
                    end: chunk.start + data.t1 as f64 / 100.0,
                    probability: data.p,
                });
            }
            let text = seg
                .to_str_lossy()
                .map(|s| s.trim().to_string())
                .unwrap_or_default();
            if text.is_empty() || tokens.is_empty() {
                continue;
            }
            let start = chunk.start + seg.start_timestamp() as f64 / 100.0;
            let end = (chunk.start + seg.end_timestamp() as f64 / 100.0).min(chunk.end());
            let avg_logprob = logprob_sum / tokens.len() as f32;
            let no_speech_prob = seg.no_speech_probability();
            let scores = SegmentScores {
                text: &text,
                avg_logprob,
                no_speech_prob,
                speech_fraction: covered_fraction(start, end, &chunk.speech),
            };
            if judge(&scores).is_some() {
                out.rejected += 1;
                continue;
            }
            let words = tokens_to_words(&tokens);
            out.segments.push(Segment {
                start,
                end,
                text,
                words,
                speaker: None,
                avg_logprob,
                no_speech_prob,
            });
        }
        Ok(out)
    }
}
