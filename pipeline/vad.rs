//! Speech probability per 32 ms frame. Silero VAD (whisper.cpp's ggml port, through
//! whisper-rs) in production; an energy detector for model-free tests.
//!
//! whisper-rs's `FullParams::enable_vad` silently does nothing (pitfall 2 in the facts),
//! so the pipeline runs VAD itself and only hands speech to whisper.

use std::collections::VecDeque;
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

/// A resumed run's VAD: hands back, call by call, what the interrupted run's VAD returned
/// (from its journal), then runs the model. Exact because the same audio gives the same
/// calls and whisper.cpp's VAD starts afresh on every call (it resets its LSTM state), so
/// no hidden state is skipped. Saves re-running Silero over an hour of audio on resume.
pub struct ReplayVad {
    recorded: VecDeque<Vec<f32>>,
    model: Box<dyn SpeechProbability>,
}

impl ReplayVad {
    pub fn new(recorded: Vec<Vec<f32>>, model: Box<dyn SpeechProbability>) -> Self {
        Self {
            recorded: recorded.into(),
            model,
        }
    }
}

impl SpeechProbability for ReplayVad {
    fn frame_probabilities(&mut self, samples: &[f32]) -> Result<Vec<f32>> {
        match self.recorded.pop_front() {
            Some(p) if p.len() == samples.len().div_ceil(FRAME_SAMPLES) => Ok(p),
            _ => {
                // Not the call that was recorded: trust nothing recorded after it.
                self.recorded.clear();
                self.model.frame_probabilities(samples)
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_hands_back_recorded_calls_then_runs_the_model() {
        let loud = vec![0.5f32; 2 * FRAME_SAMPLES];
        let model = Box::new(EnergyVad { threshold: 0.1 });
        let recorded = vec![vec![0.25, 0.75], vec![0.5; 3], vec![0.125, 0.125]];
        let mut vad = ReplayVad::new(recorded, model);
        assert_eq!(vad.frame_probabilities(&loud).unwrap(), [0.25, 0.75]);
        // A call that does not match what was recorded (2 frames, not 3): the model runs,
        // and nothing recorded after it is used.
        assert_eq!(vad.frame_probabilities(&loud).unwrap(), [1.0, 1.0]);
        assert_eq!(vad.frame_probabilities(&loud).unwrap(), [1.0, 1.0]);
    }
}
