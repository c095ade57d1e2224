//! Speech probability per 32 ms frame. Silero VAD (whisper.cpp's ggml port, through
//! whisper-rs) in production; an energy detector for model-free tests.
//!
//! whisper-rs's `FullParams::enable_vad` silently does nothing (pitfall 2 in the facts),
//! so the pipeline runs VAD itself and only hands speech to whisper.

use std::path::Path;

use anyhow::{anyhow, Result};
use whisper_rs::{WhisperVadContext, WhisperVadContextParams};

/// Samples per VAD frame at 16 kHz (Silero's window).
pub const FRAME_SAMPLES: usize = 512;

pub trait SpeechProbability: Send {
    /// One probability in 0..1 per `FRAME_SAMPLES` of `samples` (a trailing partial
    /// frame counts as a frame).
    fn frame_probabilities(&mut self, samples: &[f32]) -> Result<Vec<f32>>;
}

pub struct SileroVad {
    ctx: WhisperVadContext,
}

impl SileroVad {
    pub fn load(path: &Path) -> Result<Self> {
        if !path.is_file() {
            return Err(anyhow!(
                "VAD model not found at {} (run scripts/fetch-models)",
                path.display()
            ));
        }
        let mut params = WhisperVadContextParams::new();
        // VAD is cheap next to whisper; one thread keeps the producer from starving workers.
        params.set_n_threads(1);
        params.set_use_gpu(false);
        let ctx = WhisperVadContext::new(&path.to_string_lossy(), params)
            .map_err(|e| anyhow!("cannot load VAD model {}: {e:?}", path.display()))?;
        Ok(Self { ctx })
    }
}

impl SpeechProbability for SileroVad {
    fn frame_probabilities(&mut self, samples: &[f32]) -> Result<Vec<f32>> {
        if samples.is_empty() {
            return Ok(Vec::new());
        }
        self.ctx
            .detect_speech(samples)
            .map_err(|e| anyhow!("voice activity detection failed: {e:?}"))?;
        let mut probs = self.ctx.probabilities().to_vec();
        // Keep exactly one value per (partial) frame whatever the backend pads to.
        let frames = samples.len().div_ceil(FRAME_SAMPLES);
        probs.resize(frames, *probs.last().unwrap_or(&0.0));
        Ok(probs)
    }
}

/// Loudness-based stand-in for tests: frames louder than `threshold` RMS count as speech.
pub struct EnergyVad {
    pub threshold: f32,
}

impl SpeechProbability for EnergyVad {
    fn frame_probabilities(&mut self, samples: &[f32]) -> Result<Vec<f32>> {
        Ok(samples
            .chunks(FRAME_SAMPLES)
            .map(|f| {
                let rms = (f.iter().map(|s| s * s).sum::<f32>() / f.len() as f32).sqrt();
                if rms > self.threshold {
                    1.0
                } else {
                    0.0
                }
            })
            .collect())
    }
}
