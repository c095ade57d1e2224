//! Speaker embeddings for windows of speech: Kaldi fbank features, then CAM++.
//! `SpeakerEmbedder` is shared by the worker threads (candle tensors are reference
//! counted and read-only here).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Result};
use candle_core::{Device, Tensor};

use super::campplus::{frames_after_tdnn, CamContext, CamPlusPlus};
use super::fbank::{Fbank, FRAME_SHIFT, NUM_BINS};

/// Fewest feature frames (10 ms each) worth an embedding.
const MIN_FRAMES: usize = 10;
/// Frames (20 ms after the TDNN) each side of a frame that its CAM context averages:
/// 75 makes ~3 s, the length CAM++ was trained on (37, a 1.5 s context, split one of the
/// interview's voices in two).
const CONTEXT_HALF_WIDTH: usize = 75;

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

    /// L2-normalised embeddings of windows (sample ranges) inside one stretch of speech:
    /// `region_features` once, then `embed_windows` (see there). Windows too short for
    /// features get `None`.
    pub fn embed_region(
        &self,
        region: &[f32],
        windows: &[(usize, usize)],
    ) -> Result<Vec<Option<Vec<f32>>>> {
        match self.region_features(region)? {
            Some(x) => self.embed_windows(&x, region.len(), windows),
            None => Ok(vec![None; windows.len()]),
        }
    }

    /// CAM++ frame features of one stretch of speech, `[1, 512, T]`: frame `j` is centred
    /// on `feature_frame_centre_s(j)` from the stretch's start. `None` if the stretch is
    /// too short for features.
    ///
    /// The stretch is run through the network once, not window by window: features are
    /// mean-normalised over the stretch, the head is computed once, and the CAM layers
    /// see a sliding context of `CONTEXT_HALF_WIDTH` frames each side, as if every frame
    /// sat in its own ~3 s window. Any set of its frames can then be pooled into an
    /// embedding: overlapping windows no longer pay for their shared frames twice (this
    /// cut the speaker model's CPU time on the interview from 8.1 s to 3.3 s, with the
    /// same DER on all three samples as running 1.5 s windows one by one).
    pub fn region_features(&self, region: &[f32]) -> Result<Option<Tensor>> {
        let feats = self.fbank.compute(region);
        let total = feats.len() / NUM_BINS;
        if total < MIN_FRAMES {
            return Ok(None);
        }
        let head = self.model.head_long(&feats, total)?;
        let context = CamContext::Sliding {
            half_width: CONTEXT_HALF_WIDTH,
        };
        Ok(Some(self.model.frame_features(&head, context)?))
    }

    /// Embeddings of windows (sample ranges of a stretch of `samples` samples) pooled
    /// from the stretch's frame features `x`. Windows too short get `None`.
    pub fn embed_windows(
        &self,
        x: &Tensor,
        samples: usize,
        windows: &[(usize, usize)],
    ) -> Result<Vec<Option<Vec<f32>>>> {
        let mut out: Vec<Option<Vec<f32>>> = vec![None; windows.len()];
        let t_out = x.dim(2)?;
        // Windows in frames after the TDNN (which halves the frame rate), grouped by length
        // so equal ones are pooled as one batch.
        let mut by_len: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
        for (i, &(a, b)) in windows.iter().enumerate() {
            let frames = Fbank::num_frames(b.min(samples).saturating_sub(a));
            let first = (a / FRAME_SHIFT / 2).min(t_out);
            let len = frames_after_tdnn(frames).min(t_out - first);
            if frames >= MIN_FRAMES && len > 0 {
                by_len.entry(len).or_default().push((i, first));
            }
        }
        for (len, group) in by_len {
            let parts = group
                .iter()
                .map(|&(_, first)| x.narrow(2, first, len))
                .collect::<candle_core::Result<Vec<_>>>()?;
            let embs = self.model.pool(&Tensor::cat(&parts, 0)?)?;
            for (&(i, _), mut e) in group.iter().zip(embs) {
                normalize(&mut e);
                out[i] = Some(e);
            }
        }
        Ok(out)
    }

    /// One L2-normalised embedding pooled over chosen frames of one or more stretches:
    /// `(frame features, frame indices)` pairs.
    pub fn embed_frames(&self, parts: &[(&Tensor, Vec<u32>)]) -> Result<Vec<f32>> {
        let picked = parts
            .iter()
            .filter(|(_, idx)| !idx.is_empty())
            .map(|(x, idx)| {
                let idx = Tensor::from_slice(idx, idx.len(), x.device())?;
                x.index_select(&idx, 2)
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        let mut e = self.model.pool(&Tensor::cat(&picked, 2)?)?.remove(0);
        normalize(&mut e);
        Ok(e)
    }
}

/// Centre of frame `j` of `region_features`, in seconds from the stretch's start: fbank
/// frame `f` spans 25 ms from `f * 10 ms`, and the TDNN's frame `j` is centred on fbank
/// frame `2 j`.
pub fn feature_frame_centre_s(j: usize) -> f64 {
    (2 * j * FRAME_SHIFT) as f64 / 16_000.0 + 0.0125
}
