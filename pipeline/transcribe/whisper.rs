//! whisper.cpp through whisper-rs: one shared `WhisperContext` (the weights), one
//! `WhisperState` per worker thread (its scratch memory), `FullParams` built per call
//! because it borrows.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use anyhow::{anyhow, bail, Context, Result};
use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
};

use super::quality::{
    covered_fraction, decoding_looped, judge, looks_looped, skipped_speech, window_needs_fallback,
    SegmentScores, ENTROPY_THRESHOLD,
};
use super::words::{tokens_to_words, TimedToken};
use super::{
    language_parts, language_unsure, most_likely_language, other_language_heard, region_language,
    ChunkTranscriber, ChunkTranscript, LanguageLatch, LanguagePart, RegionLanguage,
    MIN_SPEECH_TO_LATCH_S,
};
use crate::profile::{self, Stage};
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
    /// Encode only as much of whisper's 30 s window as the audio fills (plus a margin),
    /// instead of 30 s of padding every time: a 5 s utterance costs about a sixth of the
    /// encoder time. Live mode uses it; file mode's chunks are near 30 s anyway.
    pub fit_audio_ctx: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            language: None,
            beam_size: 1,
            threads: 1,
            initial_prompt: None,
            fit_audio_ctx: false,
        }
    }
}

/// The loaded weights, shared by all workers.
pub struct WhisperModel {
    ctx: Arc<WhisperContext>,
    path: PathBuf,
    eot: i32,
    /// whisper's `<|0.00|>`: every token id from it up is a timestamp.
    timestamp_base: i32,
    multilingual: bool,
}

impl WhisperModel {
    pub fn load(path: &Path, use_gpu: bool) -> Result<Self> {
        check_ggml_file(path)?;
        let params = WhisperContextParameters {
            use_gpu,
            // Flash attention on the GPU is the fast path; on CPU it brings little.
            flash_attn: use_gpu,
            ..Default::default()
        };
        let ctx = if !use_gpu && bf16_wanted() {
            // See transcribe::bf16: the same f16 file, its matrices in bf16 in memory.
            let mut bytes = std::fs::read(path)
                .with_context(|| format!("cannot read whisper model {}", path.display()))?;
            super::bf16::convert_f16_matrices_to_bf16(&mut bytes)
                .with_context(|| format!("whisper model {} is damaged", path.display()))?;
            WhisperContext::new_from_buffer_with_params(&bytes, params)
        } else {
            WhisperContext::new_with_params(path, params)
        }
        .map_err(|e| anyhow!("cannot load whisper model {}: {e:?}", path.display()))?;
        Ok(Self {
            eot: ctx.token_eot(),
            timestamp_base: ctx.token_beg(),
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

    /// A worker on these weights. It makes its whisper state when given a chunk (a fresh
    /// one per chunk, see `transcribe`): one made here would be thrown away unused.
    pub fn worker(&self, opts: DecodeOptions) -> Result<WhisperWorker> {
        Ok(WhisperWorker {
            ctx: Arc::clone(&self.ctx),
            state: None,
            eot: self.eot,
            timestamp_base: self.timestamp_base,
            multilingual: self.multilingual,
            opts,
        })
    }
}

/// bf16 weights where this build's ggml has bf16 dot products, unless
/// `SPACESCRIBE_BF16=0` asks for the file's own f16 (for comparisons).
fn bf16_wanted() -> bool {
    std::env::var("SPACESCRIBE_BF16").map_or(true, |v| v != "0")
        && super::bf16::cpu_has_bf16_kernels()
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
    // The weights: alive as long as the state that points into them, and the source of a
    // fresh state per chunk.
    ctx: Arc<WhisperContext>,
    /// None between chunks: the last chunk's state is dropped before the next is made.
    state: Option<WhisperState>,
    eot: i32,
    timestamp_base: i32,
    multilingual: bool,
    opts: DecodeOptions,
}

/// Whisper sometimes ends a window early (emits end-of-text with speech still to come);
/// when more than this much VAD speech is left untranscribed, decode again from there.
const MIN_LEFTOVER_SPEECH_S: f64 = 1.0;
const MAX_DECODE_PASSES: usize = 4;
/// Segments of a chunk decoded again for skipped speech, at most (each costs a window).
const MAX_SKIPPED_SPEECH_REDECODES: usize = 3;
/// The rest of a chunk up to this long is decoded with a fitted encoder context; a longer
/// rest gets a full window. Fitted, whisper writes a long stretch with worse punctuation
/// and word times (the interview's last 13.7 s lost its capitals, and "thank" moved onto
/// the speaker before); the rests that cost the most full windows are short (on the
/// panel 2.6-3.5 s).
const MAX_FITTED_REST_S: f64 = 8.0;
/// Audio (seconds, from a chunk's first speech) the language is identified from: what
/// whisper's 30 s detection window mostly holds in a chunk cut at pauses, for a third of
/// its encoder positions.
const LANGUAGE_PROBE_S: f64 = 10.0;
/// Less audio than this (1 s) is left to whisper's own detection.
const MIN_LANGUAGE_PROBE_SAMPLES: usize = 16_000;
/// A segment whose tokens average a log-probability under this is suspected of being in
/// another language than whisper was told (with base: German decoded as English -0.97 to
/// -1.55 a segment; English ones of the samples down to -0.76 on the panel and -1.16 on
/// rapid's phone line, which a language check then clears).
const DOUBTFUL_AVG_LOGPROB: f32 = -0.9;
/// Most stretches of one chunk checked for another language (see `DOUBTFUL_AVG_LOGPROB`).
const MAX_DOUBTFUL_SPANS: usize = 3;
/// Least length (seconds) of a speech region whose language is identified on its own when
/// a chunk's window may hold two languages; shorter ones ("Ja.", "Yeah.") go with their
/// neighbours.
const MIN_PART_LANGUAGE_S: f64 = 1.5;

/// Whisper's encoder positions: 1500 for 30 s, one per 20 ms.
const FULL_AUDIO_CTX: usize = 1500;
/// 16 kHz samples per encoder position (20 ms).
const SAMPLES_PER_CTX_POSITION: usize = 320;
/// Encoder contexts are kept to multiples of this where the audio allows. The encoder's
/// attention-times-values product has the context as its inner size, and ggml's tinyBLAS
/// takes a product only when that is a multiple of its step (16 with AVX-512, 8 with AVX2);
/// at 1500 ggml falls back to one dot product at a time, the largest single item of a
/// tiny.en profile (`ggml_vec_dot_f16`, 23% of the samples).
const TILED_CTX_STEP: usize = 16;
/// The largest such context below 30 s: 1488 positions, 29.76 s. A whole-window pass over
/// audio that fits uses it; the 0.24 s it leaves out is padding. Measured 2026-12-04
/// (AVX-512 EPYC, `--no-diarize`): base on the panel 18.2 -> 15.9 s, on rapid 19.0 / 19.4
/// -> 16.4 / 17.3 s; tiny.en 9.1 -> 7.8 s and 9.1 / 8.9 -> 8.0 / 8.7 s (README, "Speed").
const TILED_FULL_AUDIO_CTX: usize = FULL_AUDIO_CTX / TILED_CTX_STEP * TILED_CTX_STEP;
/// Encoder positions kept past the end of the audio when the context is fitted: whisper
/// was trained on padded windows and ends its text more reliably with some silence after it.
const AUDIO_CTX_MARGIN_S: f64 = 1.0;
/// With a fitted context whisper sometimes repeats the utterance until its 220-token limit
/// (and then retries at five temperatures: 8 s for a 3 s clip with tiny.en). Speech runs
/// at 3-5 tokens a second, so a fitted decode stops at this rate and a repeat is caught
/// by the quality guards and decoded again at the full context instead.
const FITTED_MAX_TOKENS_PER_S: f64 = 8.0;
const FITTED_MIN_TOKENS: usize = 16;

/// Token cap for a fitted decode of `samples` of 16 kHz audio.
pub fn fitted_max_tokens(samples: usize) -> usize {
    FITTED_MIN_TOKENS + (samples as f64 / 16_000.0 * FITTED_MAX_TOKENS_PER_S).ceil() as usize
}

/// Encoder context for `samples` of 16 kHz audio when only the filled part is encoded:
/// the audio and its margin, rounded up to a multiple of `TILED_CTX_STEP`.
pub fn fitted_audio_ctx(samples: usize) -> usize {
    let seconds = samples as f64 / 16_000.0 + AUDIO_CTX_MARGIN_S;
    let needed = (seconds * 50.0).ceil() as usize;
    let tiled = needed.div_ceil(TILED_CTX_STEP) * TILED_CTX_STEP;
    if tiled <= TILED_FULL_AUDIO_CTX {
        tiled
    } else {
        FULL_AUDIO_CTX
    }
}

/// Encoder context for a whole-window pass over `samples` of 16 kHz audio: 1488 when the
/// audio fits in it (nearly every chunk: they end in pauses), else whisper's full 1500.
pub fn full_window_audio_ctx(samples: usize) -> usize {
    if samples <= TILED_FULL_AUDIO_CTX * SAMPLES_PER_CTX_POSITION {
        TILED_FULL_AUDIO_CTX
    } else {
        FULL_AUDIO_CTX
    }
}

/// Decoding settings for one whisper call: a beam search of `beam_size` when it is over 1,
/// else greedy. FullParams borrows, so it is built per call.
fn full_params<'a>(
    opts: &'a DecodeOptions,
    language: Option<&'a str>,
    beam_size: usize,
) -> FullParams<'a, 'a> {
    let strategy = if beam_size > 1 {
        SamplingStrategy::BeamSearch {
            beam_size: beam_size as i32,
            patience: -1.0,
        }
    } else {
        SamplingStrategy::Greedy { best_of: 1 }
    };
    let mut params = FullParams::new(strategy);
    params.set_n_threads(opts.threads as i32);
    params.set_language(language);
    params.set_translate(false);
    // Each chunk stands alone: carrying text across chunks is how whisper loops.
    params.set_no_context(true);
    params.set_token_timestamps(true);
    params.set_suppress_blank(true);
    params.set_suppress_nst(true);
    // The early end of looping windows (`decoding_looped`) assumes whisper.cpp's threshold.
    params.set_entropy_thold(ENTROPY_THRESHOLD);
    params.set_print_progress(false);
    params.set_print_realtime(false);
    params.set_print_timestamps(false);
    params.set_print_special(false);
    if let Some(prompt) = &opts.initial_prompt {
        params.set_initial_prompt(prompt);
    }
    params
}

/// What whisper.cpp's callbacks do during one `full` call. They keep whisper to one
/// 30 s window: when its text ends before the audio does, whisper.cpp would encode a
/// whole new (padded) window for the few seconds left - on the panel 3 of 13 encodes,
/// each as dear as a full one. Stopped there, the caller decodes what is left itself,
/// with an encoder context fitted to it (see `transcribe_in_state`).
///
/// Before each decoder step they end a window that has started to loop (see
/// [`decoding_looped`]), so whisper.cpp's temperature fallback comes at once.
///
/// For the profile they also split the call's time into encoder and decoder: whisper.cpp
/// calls back just before each encode and before each decoder step's sampling, and keeps
/// its own timings only per context, not per state. The span from an encode's start to
/// the next decoder step is counted as encoder (it includes the first decoder step).
#[derive(Default)]
struct CallHooks {
    windows_started: usize,
    encode_started: Option<std::time::Instant>,
    encoder: std::time::Duration,
    /// Decodes ended early as loops, for `SPACESCRIBE_DEBUG`.
    loops_ended: usize,
    /// The token ids decoded so far, reused across steps.
    ids: Vec<i32>,
    /// The most tokens a step of the first attempt has seen: fewer means a new attempt.
    longest_decode: usize,
    past_greedy_attempt: bool,
    /// Whether to end looping attempts: only when whisper.cpp has a next temperature to
    /// fall back to. With one temperature (fitted passes) the loop would be its output,
    /// cut short, and the pass's own loop checks are made for whole loops.
    end_loops: bool,
}

impl CallHooks {
    /// Point `params`' callbacks at `hooks`, which must outlive the whisper call. They sit
    /// behind a lock because a beam search filters each beam's logits on its own thread
    /// when the call has more than one (`n_threads`), so the callbacks can run at once.
    fn attach(hooks: &Mutex<CallHooks>, params: &mut FullParams, end_loops: bool) {
        lock(hooks).end_loops = end_loops;
        let me = hooks as *const Mutex<CallHooks> as *mut std::ffi::c_void;
        // SAFETY: the callbacks only run inside the `full` call that consumes `params`,
        // while `hooks` (on the caller's stack) is alive; they touch nothing else. The raw
        // callbacks are used because whisper-rs's closure wrappers are unsound (pitfall 1).
        unsafe {
            params.set_start_encoder_callback(Some(encoder_begins));
            params.set_start_encoder_callback_user_data(me);
            params.set_filter_logits_callback(Some(decoder_stepping));
            params.set_filter_logits_callback_user_data(me);
        }
    }
}

/// The hooks, whatever another callback did while holding them: a panic cannot unwind out
/// of a C callback (it aborts), so a poisoned lock holds nothing half-done.
fn lock(hooks: &Mutex<CallHooks>) -> MutexGuard<'_, CallHooks> {
    hooks.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The hooks once the whisper call that used them has returned.
fn release(hooks: Mutex<CallHooks>) -> CallHooks {
    hooks.into_inner().unwrap_or_else(PoisonError::into_inner)
}

/// The error of a whisper call on the chunk's audio from `from` seconds.
fn failed_at(from: f64) -> impl Fn(whisper_rs::WhisperError) -> anyhow::Error {
    move |e| anyhow!("whisper failed on the audio at {from:.1} s: {e:?}")
}

unsafe extern "C" fn encoder_begins(
    _: *mut whisper_rs::WhisperSysContext,
    _: *mut whisper_rs::WhisperSysState,
    hooks: *mut std::ffi::c_void,
) -> bool {
    // SAFETY: `hooks` is the Mutex<CallHooks> attached for this call (see `attach`).
    let mut hooks = lock(unsafe { &*(hooks as *const Mutex<CallHooks>) });
    hooks.windows_started += 1;
    if hooks.windows_started > 1 {
        // whisper.cpp ends the call here, keeping the first window's segments.
        return false;
    }
    hooks.encode_started = Some(std::time::Instant::now());
    true
}

unsafe extern "C" fn never_encode(
    _: *mut whisper_rs::WhisperSysContext,
    _: *mut whisper_rs::WhisperSysState,
    _: *mut std::ffi::c_void,
) -> bool {
    false
}

/// whisper.cpp's logits filter: called with the tokens decoded so far and the next
/// token's logits, before it samples from them.
unsafe extern "C" fn decoder_stepping(
    ctx: *mut whisper_rs::WhisperSysContext,
    _: *mut whisper_rs::WhisperSysState,
    tokens: *const whisper_rs::WhisperTokenData,
    n_tokens: std::os::raw::c_int,
    logits: *mut f32,
    hooks: *mut std::ffi::c_void,
) {
    // SAFETY: as in `encoder_begins`.
    let mut hooks = lock(unsafe { &*(hooks as *const Mutex<CallHooks>) });
    if let Some(started) = hooks.encode_started.take() {
        hooks.encoder += started.elapsed();
    }
    if !hooks.end_loops || hooks.past_greedy_attempt || tokens.is_null() || n_tokens <= 0 {
        return;
    }
    let n_tokens = n_tokens as usize;
    if n_tokens < hooks.longest_decode {
        // A new attempt, at a higher temperature. Only the first (temperature 0, which
        // draws no random numbers) is ended early: the later ones sample from whisper.cpp's
        // generator, and one cut short would change the draws left for the next, and so
        // its text. (Tried on all attempts: base on rapid got faster, but tiny.en's text
        // for one window came from a worse draw, WER 22.1 -> 26.9%.)
        hooks.past_greedy_attempt = true;
        return;
    }
    hooks.longest_decode = n_tokens;
    // SAFETY: whisper.cpp passes its decoder's current sequence, `n_tokens` long, and the
    // logits of the whole vocabulary, which the filter may change.
    let (tokens, eot, timestamp_base, logits) = unsafe {
        use whisper_rs::whisper_rs_sys as sys;
        (
            std::slice::from_raw_parts(tokens, n_tokens),
            sys::whisper_token_eot(ctx),
            sys::whisper_token_beg(ctx),
            std::slice::from_raw_parts_mut(logits, sys::whisper_n_vocab(ctx) as usize),
        )
    };
    hooks.ids.clear();
    hooks.ids.extend(tokens.iter().map(|t| t.id));
    if decoding_looped(&hooks.ids, timestamp_base) {
        // Only end-of-text is left to sample; whisper.cpp then scores the window as a
        // loop and moves on to its next temperature.
        logits.fill(f32::NEG_INFINITY);
        logits[eot as usize] = 0.0;
        hooks.loops_ended += 1;
    }
}

/// The temperatures of whisper's fallback go up in these steps (0.2, 0.4, ... 1.0), as in
/// openai-whisper, faster-whisper and whisper.cpp's defaults.
const TEMPERATURE_STEP: f32 = 0.2;

/// Whether the window a beam search just decoded into `state` fails whisper's tests for the
/// next temperature ([`window_needs_fallback`]), judged on its text and timestamp tokens as
/// whisper.cpp scores a sequence.
fn beam_needs_fallback(
    state: &WhisperState,
    speech_seconds: f64,
    eot: i32,
    timestamp_base: i32,
) -> bool {
    let mut ids = Vec::new();
    let mut logprob_sum = 0.0f32;
    let mut text = String::new();
    let mut no_speech_prob = 0.0f32;
    for seg in state.as_iter() {
        no_speech_prob = seg.no_speech_probability();
        for i in 0..seg.n_tokens() {
            let Some(tok) = seg.get_token(i) else {
                continue;
            };
            let data = tok.token_data();
            if data.id < eot || data.id >= timestamp_base {
                ids.push(data.id);
                logprob_sum += data.plog;
            }
        }
        if let Ok(part) = seg.to_str_lossy() {
            text.push_str(&part);
        }
    }
    window_needs_fallback(
        &ids,
        logprob_sum,
        no_speech_prob,
        &text,
        speech_seconds,
        timestamp_base,
    )
}

/// `SPACESCRIBE_DEBUG` set: say on stderr what each whisper pass decoded or dropped.
fn debug_enabled() -> bool {
    std::env::var_os("SPACESCRIBE_DEBUG").is_some()
}

/// Seconds of speech the VAD found in the chunk.
fn speech_seconds(chunk: &Chunk) -> f64 {
    chunk.speech.iter().map(|&(a, b)| b - a).sum()
}

/// Seconds of the chunk's speech after `decoded_to` (what whisper left out).
fn speech_left_after(chunk: &Chunk, decoded_to: f64) -> f64 {
    chunk
        .speech
        .iter()
        .map(|&(a, b)| (b - a.max(decoded_to)).max(0.0))
        .sum()
}

impl WhisperWorker {
    /// One whisper pass over `chunk` from `from` seconds (absolute) to its end. Appends the
    /// segments that pass the quality guards; returns the language used and where the
    /// last decoded segment (kept or not) ended. `fitted`: encode only the audio's part of
    /// the window, one temperature, capped tokens (see [`fitted_audio_ctx`]).
    fn decode_pass(
        &mut self,
        chunk: &Chunk,
        from: f64,
        language: Option<&str>,
        fitted: bool,
        out: &mut ChunkTranscript,
    ) -> Result<(Option<String>, f64)> {
        let skip = chunk.sample_at(from);
        let samples = chunk.samples.len() - skip;
        // A beam search decodes at temperature 0 only. whisper.cpp's own fallback would go
        // on with the beam strategy, which at a higher temperature keeps one decoder and
        // takes the likeliest of the tokens it draws - nearly greedy, so a window that
        // loops at 0 loops again (base on `rapid`: one window written as "And the mageham."
        // fourteen times). As openai-whisper and faster-whisper do, the fallback samples
        // instead: a second call, below.
        let beam_then_sampling = !fitted && self.opts.beam_size > 1;
        let mut params = full_params(&self.opts, language, self.opts.beam_size);
        if fitted {
            params.set_audio_ctx(fitted_audio_ctx(samples) as i32);
            params.set_max_tokens(fitted_max_tokens(samples) as i32);
            params.set_temperature_inc(0.0);
        } else {
            params.set_audio_ctx(full_window_audio_ctx(samples) as i32);
            if beam_then_sampling {
                params.set_temperature_inc(0.0);
            }
        }
        let hooks = Mutex::new(CallHooks::default());
        CallHooks::attach(&hooks, &mut params, !fitted);
        let t0 = std::time::Instant::now();
        let state = self
            .state
            .as_mut()
            .ok_or_else(|| anyhow!("no whisper state"))?;
        state
            .full(params, &chunk.samples[skip..])
            .map_err(failed_at(from))?;
        let mut hooks = release(hooks);
        let mut sampled_again = false;
        if beam_then_sampling
            && beam_needs_fallback(
                state,
                speech_left_after(chunk, from),
                self.eot,
                self.timestamp_base,
            )
        {
            let mut params = full_params(&self.opts, language, 1);
            params.set_audio_ctx(full_window_audio_ctx(samples) as i32);
            params.set_temperature(TEMPERATURE_STEP);
            params.set_temperature_inc(TEMPERATURE_STEP);
            // No early end of loops: every attempt here draws random numbers, and one cut
            // short would change the draws of the next (see `decoder_stepping`).
            let again = Mutex::new(CallHooks::default());
            CallHooks::attach(&again, &mut params, false);
            state
                .full(params, &chunk.samples[skip..])
                .map_err(failed_at(from))?;
            let again = release(again);
            hooks.encoder += again.encoder;
            sampled_again = true;
        }
        if profile::enabled() {
            let encoder = hooks.encoder.min(t0.elapsed());
            profile::add(Stage::WhisperEncoder, encoder);
            profile::add(Stage::WhisperDecoder, t0.elapsed() - encoder);
        }
        let offset = chunk.start + skip as f64 / 16_000.0;
        let language = language.map(str::to_string).or_else(|| {
            whisper_rs::get_lang_str(state.full_lang_id_from_state()).map(str::to_string)
        });
        let debug = debug_enabled();
        let mut decoded_to = from;
        for seg in state.as_iter() {
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
                    // Token times can run past the audio (whisper pads to 30 s).
                    start: (offset + data.t0 as f64 / 100.0).min(chunk.end()),
                    end: (offset + data.t1 as f64 / 100.0).min(chunk.end()),
                    probability: data.p,
                });
            }
            let start = offset + seg.start_timestamp() as f64 / 100.0;
            let end = (offset + seg.end_timestamp() as f64 / 100.0).min(chunk.end());
            decoded_to = decoded_to.max(end);
            let text = seg
                .to_str_lossy()
                .map(|s| s.trim().to_string())
                .unwrap_or_default();
            if text.is_empty() || tokens.is_empty() {
                continue;
            }
            let avg_logprob = logprob_sum / tokens.len() as f32;
            let no_speech_prob = seg.no_speech_probability();
            let scores = SegmentScores {
                text: &text,
                avg_logprob,
                no_speech_prob,
                speech_fraction: covered_fraction(start, end, &chunk.speech),
            };
            if let Some(why) = judge(&scores) {
                if debug {
                    eprintln!("dropped {why:?} [{start:.2}-{end:.2}] lp={avg_logprob:.2} ns={no_speech_prob:.2} {text}");
                }
                out.rejected += 1;
                continue;
            }
            out.segments.push(Segment {
                start,
                end,
                text,
                words: tokens_to_words(&tokens),
                speaker: None,
                language: language.clone(),
                avg_logprob,
                no_speech_prob,
            });
        }
        if debug {
            eprintln!(
                "chunk {} {} pass from {from:.2} [{:.2}-{:.2}] decoded to {decoded_to:.2} in {:.2}s, {} segments, {} loops ended{}",
                chunk.id,
                if fitted { "fitted" } else { "full" },
                chunk.start,
                chunk.end(),
                t0.elapsed().as_secs_f64(),
                state.full_n_segments(),
                hooks.loops_ended,
                if sampled_again { ", beam failed: sampled again" } else { "" }
            );
        }
        Ok((language, decoded_to))
    }

    /// The language of the chunk's first speech: whisper's language identification on up to
    /// `LANGUAGE_PROBE_S` of audio from there (see [`WhisperWorker::identify_language`]).
    /// `None` when the chunk holds too little audio to judge (whisper then detects in its
    /// pass).
    fn detect_language(&mut self, chunk: &Chunk) -> Result<Option<String>> {
        let first_speech = chunk.speech.first().map_or(chunk.start, |r| r.0);
        let t0 = std::time::Instant::now();
        let Some(probs) = self.identify_language(chunk, first_speech, chunk.end())? else {
            return Ok(None);
        };
        let language = most_likely_language(&probs).map(|(lang, _)| lang);
        if debug_enabled() {
            eprintln!(
                "chunk {} language {language:?} from {first_speech:.2} in {:.2}s",
                chunk.id,
                t0.elapsed().as_secs_f64()
            );
        }
        Ok(language.map(str::to_string))
    }

    /// `identify_language` on a stretch of the chunk, said on stderr with
    /// `SPACESCRIBE_DEBUG` (apart from the run's own detection, which tests count).
    fn stretch_language(&mut self, chunk: &Chunk, from: f64, to: f64) -> Result<RegionLanguage> {
        let t0 = std::time::Instant::now();
        let probs = self.identify_language(chunk, from, to)?;
        if debug_enabled() {
            eprintln!(
                "chunk {} stretch {from:.2}-{to:.2} heard as {:?} in {:.2}s",
                chunk.id,
                probs.as_deref().and_then(most_likely_language),
                t0.elapsed().as_secs_f64()
            );
        }
        Ok(probs
            .as_deref()
            .map_or(RegionLanguage::NotAsked, region_language))
    }

    /// Whisper's language probabilities (indexed by its language ids) for up to
    /// `LANGUAGE_PROBE_S` of the chunk's audio from `from` to `to` (absolute seconds),
    /// encoded with a context fitted to it. `None` under `MIN_LANGUAGE_PROBE_SAMPLES`.
    ///
    /// Why not whisper_full's own detection: it encodes a whole 1500-position window just
    /// for that, before the pass encodes the audio again; until a language is latched every
    /// chunk pays it (with base on rapid.m4a, `--no-diarize`: 15.4 / 15.8 s against 13.7 /
    /// 14.0 s with `--language en`).
    fn identify_language(&mut self, chunk: &Chunk, from: f64, to: f64) -> Result<Option<Vec<f32>>> {
        let skip = chunk.sample_at(from);
        let probe_len =
            ((LANGUAGE_PROBE_S * 16_000.0) as usize).min(chunk.sample_at(to).saturating_sub(skip));
        if probe_len < MIN_LANGUAGE_PROBE_SAMPLES {
            return Ok(None);
        }
        let probe = &chunk.samples[skip..skip + probe_len];
        let t0 = std::time::Instant::now();
        let state = self
            .state
            .as_mut()
            .ok_or_else(|| anyhow!("no whisper state"))?;
        // whisper.cpp's detection encodes with the context of the state's last `full`
        // call. This call sets it and stops before its encoder (the callback says no).
        let mut params = full_params(&self.opts, Some("en"), 1);
        params.set_audio_ctx(fitted_audio_ctx(probe_len) as i32);
        // SAFETY: the callback takes no data and runs only inside this `full` call.
        unsafe { params.set_start_encoder_callback(Some(never_encode)) };
        state
            .full(params, &[0.0; 16_000])
            .map_err(|e| anyhow!("whisper failed to set up language detection: {e:?}"))?;
        state
            .pcm_to_mel(probe, self.opts.threads.max(1))
            .map_err(failed_at(from))?;
        let (_, probs) = state
            .lang_detect(0, self.opts.threads.max(1))
            .map_err(|e| anyhow!("whisper failed to detect the language: {e:?}"))?;
        profile::add(Stage::WhisperEncoder, t0.elapsed());
        Ok(Some(probs))
    }

    /// Whether a stretch of the chunk that its first decode (`out`, in the language it was
    /// `expected` in: see `transcribe_in_state`) rendered badly is clearly in another
    /// language: a segment of at least `MIN_PART_LANGUAGE_S` with an average token
    /// log-probability under `DOUBTFUL_AVG_LOGPROB`, or a speech region as long that no
    /// segment covers half of. At most `MAX_DOUBTFUL_SPANS` are put to language
    /// identification, the least likely first: a fitted encode each.
    fn other_language_in_doubtful_spans(
        &mut self,
        chunk: &Chunk,
        out: &ChunkTranscript,
        expected: &str,
    ) -> Result<bool> {
        let mut doubtful: Vec<(f32, f64, f64)> = out
            .segments
            .iter()
            .filter(|s| s.end - s.start >= MIN_PART_LANGUAGE_S)
            .filter(|s| s.avg_logprob < DOUBTFUL_AVG_LOGPROB)
            .map(|s| (s.avg_logprob, s.start, s.end))
            .collect();
        let spans: Vec<(f64, f64)> = out.segments.iter().map(|s| (s.start, s.end)).collect();
        for &(a, b) in &chunk.speech {
            if b - a >= MIN_PART_LANGUAGE_S && covered_fraction(a, b, &spans) < 0.5 {
                doubtful.push((f32::NEG_INFINITY, a, b));
            }
        }
        doubtful.sort_by(|x, y| x.0.total_cmp(&y.0));
        for &(_, a, b) in doubtful.iter().take(MAX_DOUBTFUL_SPANS) {
            if matches!(self.stretch_language(chunk, a, b)?,
                RegionLanguage::Heard(lang) if lang != expected)
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The chunk cut where its language changes (see [`language_parts`]): each speech
    /// region with at least `MIN_PART_LANGUAGE_S` of speech has its language identified
    /// on its own. For a window whisper is not sure of, which may hold two languages.
    fn language_parts_of(&mut self, chunk: &Chunk, fallback: &str) -> Result<Vec<LanguagePart>> {
        let mut heard = Vec::with_capacity(chunk.speech.len());
        for &(a, b) in &chunk.speech {
            heard.push(if b - a >= MIN_PART_LANGUAGE_S {
                self.stretch_language(chunk, a, b)?
            } else {
                RegionLanguage::NotAsked
            });
        }
        Ok(language_parts(
            chunk.start,
            chunk.end(),
            &chunk.speech,
            &heard,
            fallback,
        ))
    }

    /// Whisper's probability of each language (indexed by whisper's language id) for the
    /// window the state encoded last: one decoder step from start-of-transcript over that
    /// encoding, which is how whisper.cpp's own detection reads it after its encode. After a
    /// pass this costs one decoder step, not another encode.
    fn encoded_window_languages(&mut self) -> Result<Vec<f32>> {
        let t0 = std::time::Instant::now();
        let sot = self.ctx.token_sot();
        let threads = self.opts.threads.max(1);
        let state = self
            .state
            .as_mut()
            .ok_or_else(|| anyhow!("no whisper state"))?;
        state
            .decode(&[sot], 0, threads)
            .map_err(|e| anyhow!("whisper failed to read the language of a window: {e:?}"))?;
        let logits = state
            .get_logits()
            .map_err(|e| anyhow!("whisper gave no logits for the language: {e:?}"))?;
        let lang_logits: Vec<f32> = (0..=whisper_rs::get_lang_max_id())
            .map(|id| logits[self.ctx.token_lang(id) as usize])
            .collect();
        profile::add(Stage::WhisperDecoder, t0.elapsed());
        let probs = softmax(&lang_logits);
        if debug_enabled() {
            eprintln!(
                "window heard as {:?} in {:.1} ms",
                most_likely_language(&probs),
                t0.elapsed().as_secs_f64() * 1000.0
            );
        }
        Ok(probs)
    }

    /// One fitted pass from `from` to the chunk's end (see [`fitted_audio_ctx`]), kept
    /// only if nothing in it was rejected, it reached the end of the speech and does not
    /// look looped. `must_hear_words`: an empty result counts as a failure (a whole chunk
    /// the VAD called speech); for the rest of a chunk, hearing nothing is an answer.
    /// Returns the pass's transcript, the language used and where it ended.
    fn fitted_pass(
        &mut self,
        chunk: &Chunk,
        from: f64,
        language: Option<&str>,
        must_hear_words: bool,
    ) -> Result<Option<(ChunkTranscript, Option<String>, f64)>> {
        let mut out = ChunkTranscript {
            id: chunk.id,
            ..Default::default()
        };
        let (used, decoded_to) = self.decode_pass(chunk, from, language, true, &mut out)?;
        let text: Vec<&str> = out.segments.iter().map(|s| s.text.as_str()).collect();
        let complete = out.rejected == 0
            && !(must_hear_words && out.segments.is_empty())
            && speech_left_after(chunk, decoded_to) < MIN_LEFTOVER_SPEECH_S
            && !looks_looped(&text.join(" "), speech_left_after(chunk, from));
        if !complete && debug_enabled() {
            eprintln!(
                "chunk {} fitted pass from {from:.2} not kept ({} rejected): {:?}",
                chunk.id, out.rejected, text
            );
        }
        Ok(complete.then_some((out, used, decoded_to)))
    }
}

impl ChunkTranscriber for WhisperWorker {
    fn would_detect_language(&self, latch: &LanguageLatch) -> bool {
        self.multilingual && self.opts.language.is_none() && latch.get().is_none()
    }

    fn transcribe(&mut self, chunk: &Chunk, latch: &LanguageLatch) -> Result<ChunkTranscript> {
        // A fresh state for every chunk (about 5 ms): whisper.cpp keeps the random
        // generator of its temperature fallback in the state and never reseeds it, so a
        // reused state makes a chunk's text depend on which chunks its worker decoded
        // before - two runs of one file, or a run resumed from its journal, would differ.
        self.fresh_state()?;
        let result = self.transcribe_in_state(chunk, latch);
        // The state's buffers (about 230 MB reserved with base, the encoder's 86 MB all
        // touched) go back before this worker runs the speaker models on the chunk, so a
        // worker never holds them outside whisper (peak RSS with base and speakers: panel
        // about 700 -> 640 MiB, the 2-hour loop 795 -> 729 MiB).
        self.state = None;
        crate::heap::return_free_pages();
        result
    }
}

impl WhisperWorker {
    /// A new whisper state for this worker (about 5 ms), in place of the last one.
    fn fresh_state(&mut self) -> Result<()> {
        self.state = None;
        self.state = Some(
            profile::time(Stage::WhisperState, || self.ctx.create_state())
                .map_err(|e| anyhow!("cannot allocate whisper state: {e:?}"))?,
        );
        Ok(())
    }

    fn transcribe_in_state(
        &mut self,
        chunk: &Chunk,
        latch: &LanguageLatch,
    ) -> Result<ChunkTranscript> {
        let mut language = if self.multilingual {
            self.opts
                .language
                .clone()
                .or_else(|| latch.get().map(str::to_string))
        } else {
            Some("en".to_string())
        };
        if language.is_none() {
            language = latch.wait_for_detection().map(str::to_string);
        }
        if language.is_none() {
            let _turn = latch.claim_detection();
            language = self.detect_language(chunk)?;
            // Latched now, not after the pass, for the workers waiting on this turn.
            if let Some(lang) = &language {
                latch.offer(lang, speech_seconds(chunk));
            }
        }
        // With the run's language latched (and none given), a chunk starts in the language
        // the last one was transcribed in and is checked against what its own window
        // sounds like: judged against the run's language, or live the last utterance's.
        let expected = match (self.multilingual, &self.opts.language) {
            (true, None) => latch.judged_against(),
            _ => None,
        };
        if expected.is_some() {
            language = latch.recent();
        }
        let (out, heard) = self.decode_chunk(chunk, language, expected.is_some())?;
        let (Some(expected), Some(heard)) = (&expected, heard) else {
            if let Some(lang) = &out.language {
                latch.offer(lang, speech_seconds(chunk));
            }
            return Ok(out);
        };
        let whole = |language: String| {
            vec![LanguagePart {
                start: chunk.start,
                end: chunk.end(),
                language,
            }]
        };
        let speech_s = speech_seconds(chunk);
        let run = latch.get().unwrap_or(expected);
        let parts = match other_language_heard(&heard, expected, run, speech_s) {
            Some(other) => whole(other),
            None if language_unsure(&heard) && speech_s >= MIN_SPEECH_TO_LATCH_S => {
                self.language_parts_of(chunk, expected)?
            }
            // Whisper hears a window's language mostly from its start: a German answer
            // after an English question is heard as English. Such a stretch decoded in
            // the wrong language comes out as unlikely text, or none at all.
            None if self.other_language_in_doubtful_spans(chunk, &out, expected)? => {
                self.language_parts_of(chunk, expected)?
            }
            None => whole(expected.clone()),
        };
        let out = match parts.as_slice() {
            [one] if out.language.as_deref() == Some(one.language.as_str()) => out,
            _ => self.decode_parts(chunk, &parts, &out)?,
        };
        if let Some(last) = parts.last() {
            latch.note_recent(&last.language);
        }
        Ok(out)
    }

    /// Decode the chunk again, each of `parts` in its language (`first_try` is what the
    /// chunk's first decode gave, for the debug line). Each part gets a fresh state, as
    /// every chunk does: the text is the one a first try in that language gives,
    /// whichever language the last chunk left as the guess.
    fn decode_parts(
        &mut self,
        chunk: &Chunk,
        parts: &[LanguagePart],
        first_try: &ChunkTranscript,
    ) -> Result<ChunkTranscript> {
        if debug_enabled() {
            let parts: Vec<String> = parts
                .iter()
                .map(|p| format!("{} {:.2}-{:.2}", p.language, p.start, p.end))
                .collect();
            eprintln!(
                "chunk {} decoded again: {} (was {:?})",
                chunk.id,
                parts.join(", "),
                first_try.language
            );
        }
        let mut out = ChunkTranscript {
            id: chunk.id,
            ..Default::default()
        };
        let mut longest = 0.0;
        for part in parts {
            self.fresh_state()?;
            // The part's own audio and speech: the whole chunk when it is one part.
            let piece = chunk.part(part.start, part.end);
            let (decoded, _) = self.decode_chunk(&piece, Some(part.language.clone()), false)?;
            out.segments.extend(decoded.segments);
            out.rejected += decoded.rejected;
            if part.end - part.start > longest {
                longest = part.end - part.start;
                out.language = Some(part.language.clone());
            }
        }
        Ok(out)
    }

    /// Decode the chunk in `language` (None: whisper detects it), in as many passes as
    /// it takes to reach the end of its speech, then decode again what whisper skipped
    /// (see [`WhisperWorker::redecode_skipped_speech`]). `check_language`: also return
    /// whisper's language probabilities for the window of the first pass (see
    /// [`WhisperWorker::encoded_window_languages`]).
    fn decode_chunk(
        &mut self,
        chunk: &Chunk,
        language: Option<String>,
        check_language: bool,
    ) -> Result<(ChunkTranscript, Option<Vec<f32>>)> {
        let (mut out, heard) = self.decode_in_passes(chunk, language, check_language)?;
        self.redecode_skipped_speech(chunk, &mut out)?;
        Ok((out, heard))
    }

    /// Segments over which whisper wrote far too few words for the speech under them
    /// (see [`skipped_speech`]) decoded again on their own, and the new text kept when it
    /// has more words: a window that starts at the segment, or halfway through it, hears
    /// what the chunk's window jumped over. At most `MAX_SKIPPED_SPEECH_REDECODES` a chunk.
    fn redecode_skipped_speech(&mut self, chunk: &Chunk, out: &mut ChunkTranscript) -> Result<()> {
        let mut redecoded = 0;
        let mut i = 0;
        while i < out.segments.len() && redecoded < MAX_SKIPPED_SPEECH_REDECODES {
            let seg = &out.segments[i];
            let speech_s =
                (seg.end - seg.start) * covered_fraction(seg.start, seg.end, &chunk.speech);
            if !skipped_speech(seg.words.len(), speech_s) {
                i += 1;
                continue;
            }
            redecoded += 1;
            let (start, end, language) = (seg.start, seg.end, seg.language.clone());
            let had = seg.words.len();
            // The segment on its own; if whisper skips the same speech again (a window
            // that starts where the first did hears it the same way), its two halves,
            // cut at the pause nearest the middle.
            let mut again = self.decode_span(chunk, start, end, &language)?;
            if word_count(&again) <= had {
                let cut = pause_nearest(&chunk.speech, start, end);
                again = self.decode_span(chunk, start, cut, &language)?;
                again.extend(self.decode_span(chunk, cut, end, &language)?);
            }
            let words = word_count(&again);
            let text: Vec<&str> = again.iter().map(|s| s.text.as_str()).collect();
            let better = words > had && !looks_looped(&text.join(" "), speech_s);
            if debug_enabled() {
                eprintln!(
                    "chunk {} [{:.2}-{:.2}] {} words over {speech_s:.1} s of speech, decoded again: {words} words{}",
                    chunk.id,
                    start,
                    end,
                    had,
                    if better { ", kept" } else { ", not kept" }
                );
            }
            if better {
                // The new segments are looked at in turn: one half may still skip.
                out.segments.splice(i..=i, again);
            } else {
                i += 1;
            }
        }
        Ok(())
    }

    /// The segments whisper writes for `[from, to]` of the chunk decoded on their own.
    fn decode_span(
        &mut self,
        chunk: &Chunk,
        from: f64,
        to: f64,
        language: &Option<String>,
    ) -> Result<Vec<Segment>> {
        let piece = chunk.part(from, to);
        // Whisper refuses empty audio; a sliver (under 0.1 s) or a stretch without speech
        // has nothing to give.
        if piece.speech.is_empty() || piece.samples.len() < 1600 {
            return Ok(Vec::new());
        }
        Ok(self
            .decode_in_passes(&piece, language.clone(), false)?
            .0
            .segments)
    }

    /// [`WhisperWorker::decode_chunk`] without the second look at skipped speech.
    fn decode_in_passes(
        &mut self,
        chunk: &Chunk,
        mut language: Option<String>,
        check_language: bool,
    ) -> Result<(ChunkTranscript, Option<Vec<f32>>)> {
        if self.opts.fit_audio_ctx {
            if let Some((mut out, used, _)) =
                self.fitted_pass(chunk, chunk.start, language.as_deref(), true)?
            {
                let heard = check_language
                    .then(|| self.encoded_window_languages())
                    .transpose()?;
                out.language = language.or(used);
                return Ok((out, heard));
            }
        }
        let mut out = ChunkTranscript {
            id: chunk.id,
            ..Default::default()
        };
        let mut heard = None;
        let mut from = chunk.start;
        for pass in 0..MAX_DECODE_PASSES {
            let rest_s = chunk.end() - from;
            let fitted_rest = if pass == 0 || rest_s > MAX_FITTED_REST_S {
                None
            } else {
                // A short rest of the chunk (whisper's text ended a few seconds before the
                // audio): a context fitted to it costs a fraction of a 30 s window's
                // encoder time; the full window only if that pass fails its checks.
                self.fitted_pass(chunk, from, language.as_deref(), false)?
            };
            let (used, decoded_to) = match fitted_rest {
                Some((rest, used, decoded_to)) => {
                    out.segments.extend(rest.segments);
                    (used, decoded_to)
                }
                None => self.decode_pass(chunk, from, language.as_deref(), false, &mut out)?,
            };
            if pass == 0 && check_language {
                heard = Some(self.encoded_window_languages()?);
            }
            // Later passes keep the language the first one detected.
            language = language.or(used);
            let leftover = speech_left_after(chunk, decoded_to);
            if leftover < MIN_LEFTOVER_SPEECH_S || decoded_to <= from {
                break;
            }
            // Restart at the first speech after what was decoded (a little before it, so
            // the first word is whole).
            let next_speech = chunk
                .speech
                .iter()
                .map(|&(a, b)| a.max(decoded_to).min(b))
                .find(|&t| t >= decoded_to)
                .unwrap_or(decoded_to);
            from = (next_speech - 0.1).max(decoded_to - 0.1).max(from + 0.5);
        }
        out.language = language;
        Ok((out, heard))
    }
}

fn word_count(segments: &[Segment]) -> usize {
    segments.iter().map(|s| s.words.len()).sum()
}

/// Where to cut `[start, end]` in two: the middle of the gap between speech regions
/// nearest its middle, or the middle itself when the speech runs through. Each side keeps
/// at least a quarter of the stretch.
fn pause_nearest(speech: &[(f64, f64)], start: f64, end: f64) -> f64 {
    let middle = (start + end) / 2.0;
    let margin = (end - start) / 4.0;
    speech
        .windows(2)
        .map(|w| (w[0].1 + w[1].0) / 2.0)
        .filter(|&gap| gap > start + margin && gap < end - margin)
        .min_by(|a, b| (a - middle).abs().total_cmp(&(b - middle).abs()))
        .unwrap_or(middle)
}

fn softmax(x: &[f32]) -> Vec<f32> {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = x.iter().map(|v| (v - max).exp()).collect();
    let sum: f32 = e.iter().sum();
    e.into_iter().map(|v| v / sum).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitted_audio_ctx_covers_the_audio_plus_margin_in_tiled_steps_and_never_exceeds_30_s() {
        // 5 s of audio + 1 s margin = 300 positions of 20 ms, rounded up to 304 (19 x 16).
        assert_eq!(fitted_audio_ctx(5 * 16_000), 304);
        assert_eq!(fitted_audio_ctx(0), 64);
        // A partial 20 ms step still gets its position: 101 -> 112.
        assert_eq!(fitted_audio_ctx(16_000 + 1), 112);
        // 28.7 s + 1 s = 1485 positions: the largest tiled context, 1488.
        assert_eq!(fitted_audio_ctx(28 * 16_000 + 11_200), 1488);
        // Past 1488 only the full window is left.
        assert_eq!(fitted_audio_ctx(29 * 16_000), FULL_AUDIO_CTX);
        assert_eq!(fitted_audio_ctx(40 * 16_000), FULL_AUDIO_CTX);
    }

    #[test]
    fn skipped_speech_is_cut_at_the_pause_nearest_its_middle() {
        let speech = [(0.0, 4.0), (4.4, 9.0), (9.6, 12.0), (12.2, 16.0)];
        // Pauses at 4.2, 9.3 and 12.1 s; the middle of 0-16 s is 8 s.
        assert!((pause_nearest(&speech, 0.0, 16.0) - 9.3).abs() < 1e-9);
        // A pause within a quarter of either end is no cut: the middle instead.
        assert!((pause_nearest(&speech, 9.0, 13.0) - 11.0).abs() < 1e-9);
        // Speech throughout: the middle.
        assert!((pause_nearest(&[(0.0, 20.0)], 2.0, 10.0) - 6.0).abs() < 1e-9);
    }

    #[test]
    fn a_whole_window_pass_uses_1488_positions_when_the_audio_fits() {
        assert_eq!(TILED_FULL_AUDIO_CTX, 1488);
        assert_eq!(full_window_audio_ctx(16_000), 1488);
        // 29.76 s exactly fits; one sample more needs the full 30 s window.
        assert_eq!(full_window_audio_ctx(1488 * 320), 1488);
        assert_eq!(full_window_audio_ctx(1488 * 320 + 1), FULL_AUDIO_CTX);
        assert_eq!(full_window_audio_ctx(30 * 16_000), FULL_AUDIO_CTX);
    }

    #[test]
    fn fitted_token_cap_leaves_room_for_fast_speech_but_not_for_a_loop() {
        // 3 s of fast speech is about 15 tokens plus timestamps; a loop runs to 220.
        let cap = fitted_max_tokens(3 * 16_000);
        assert_eq!(cap, 40);
        assert!(fitted_max_tokens(8 * 16_000) < 220 / 2);
    }
}
