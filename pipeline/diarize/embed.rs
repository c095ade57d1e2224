//! Speaker embeddings for windows of speech: Kaldi fbank features, then CAM++.
//! `SpeakerEmbedder` is shared by the worker threads (candle tensors are reference
//! counted and read-only here).

use std::path::Path;

use anyhow::{bail, Result};
use candle_core::Device;

use super::campplus::CamPlusPlus;
use super::fbank::{Fbank, NUM_BINS};

pub struct SpeakerEmbedder {
    model: CamPlusPlus,
    fbank: Fbank,
}

/// L2-normalise in place (cosine similarity becomes a dot product).
pub fn normalize(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

impl SpeakerEmbedder {
    pub fn load(path: &Path) -> Result<Self> {
        if !path.is_file() {
            bail!(
                "speaker model not found at {} (run scripts/fetch-models)",
                path.display()
            );
        }
        Ok(Self {
            model: CamPlusPlus::load(path, &Device::Cpu)?,
            fbank: Fbank::new(),
        })
    }

    /// One L2-normalised embedding of a whole clip (16 kHz mono).
    pub fn embed(&self, samples: &[f32]) -> Result<Vec<f32>> {
        let feats = self.fbank.compute(samples);
        let frames = feats.len() / NUM_BINS;
        if frames < 2 {
            bail!(
                "clip too short for a speaker embedding ({} samples)",
                samples.len()
            );
        }
        let mut e = self.model.forward(&feats, 1, frames)?.remove(0);
        normalize(&mut e);
        Ok(e)
    }

    /// L2-normalised embeddings of sample ranges of `audio`; windows of equal length run
    /// as one batch. Windows too short for features get `None`.
    pub fn embed_windows(
        &self,
        audio: &[f32],
        windows: &[(usize, usize)],
    ) -> Result<Vec<Option<Vec<f32>>>> {
        let mut out: Vec<Option<Vec<f32>>> = vec![None; windows.len()];
        let mut by_len: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
        for (i, &(a, b)) in windows.iter().enumerate() {
            let frames = Fbank::num_frames(b.min(audio.len()).saturating_sub(a));
            if frames >= 10 {
                by_len.entry(frames).or_default().push(i);
            }
        }
        // Batches of 4: larger ones gain nothing single-threaded, and their im2col
        // buffers (~7 MB per window) outgrow the allocator's reuse and page-fault anew.
        for (frames, idx) in by_len {
            for group in idx.chunks(4) {
                let mut feats = Vec::with_capacity(group.len() * frames * NUM_BINS);
                for &i in group {
                    let (a, b) = windows[i];
                    let f = self.fbank.compute(&audio[a..b.min(audio.len())]);
                    feats.extend_from_slice(&f[..frames * NUM_BINS]);
                }
                let embs = self.model.forward(&feats, group.len(), frames)?;
                for (&i, mut e) in group.iter().zip(embs) {
                    normalize(&mut e);
                    out[i] = Some(e);
                }
            }
        }
        Ok(out)
    }
}
