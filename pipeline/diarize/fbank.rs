//! Kaldi-compatible log mel filterbank features (the input CAM++ was trained on):
//! 25 ms frames every 10 ms, DC removal, pre-emphasis 0.97, Povey window, 512-point FFT,
//! 80 triangular mel bins from 20 Hz to Nyquist, natural log of the power, no dither,
//! snip_edges - the options 3D-Speaker and senko pass to torchaudio/kaldifeat. Then the
//! per-segment mean normalisation they apply.

use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};

pub const NUM_BINS: usize = 80;
const SAMPLE_RATE: f32 = 16_000.0;
const FRAME_LEN: usize = 400;
pub const FRAME_SHIFT: usize = 160;
const FFT_LEN: usize = 512;
const PREEMPHASIS: f32 = 0.97;
const LOW_FREQ: f32 = 20.0;

pub struct Fbank {
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    /// Per mel bin: first FFT bin and its weights.
    banks: Vec<(usize, Vec<f32>)>,
}

fn mel(hz: f32) -> f32 {
    1127.0 * (1.0 + hz / 700.0).ln()
}

impl Default for Fbank {
    fn default() -> Self {
        Self::new()
    }
}

impl Fbank {
    pub fn new() -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(FFT_LEN);
        let window = (0..FRAME_LEN)
            .map(|n| {
                let a = 2.0 * std::f32::consts::PI * n as f32 / (FRAME_LEN - 1) as f32;
                (0.5 - 0.5 * a.cos()).powf(0.85)
            })
            .collect();
        // Kaldi's MelBanks: bins equally spaced in mel between low and Nyquist; FFT bins
        // 0..FFT_LEN/2 (the Nyquist bin itself is not used).
        let (mel_low, mel_high) = (mel(LOW_FREQ), mel(SAMPLE_RATE / 2.0));
        let delta = (mel_high - mel_low) / (NUM_BINS + 1) as f32;
        let bin_hz = SAMPLE_RATE / FFT_LEN as f32;
        let banks = (0..NUM_BINS)
            .map(|m| {
                let left = mel_low + m as f32 * delta;
                let center = left + delta;
                let right = center + delta;
                let weights: Vec<(usize, f32)> = (0..FFT_LEN / 2)
                    .filter_map(|k| {
                        let x = mel(bin_hz * k as f32);
                        (x > left && x < right).then(|| {
                            let w = if x <= center {
                                (x - left) / (center - left)
                            } else {
                                (right - x) / (right - center)
                            };
                            (k, w)
                        })
                    })
                    .collect();
                let first = weights.first().map_or(0, |w| w.0);
                (first, weights.into_iter().map(|w| w.1).collect())
            })
            .collect();
        Self { fft, window, banks }
    }

    /// Frames `samples` (16 kHz, -1..1) yields.
    pub fn num_frames(samples: usize) -> usize {
        if samples < FRAME_LEN {
            0
        } else {
            1 + (samples - FRAME_LEN) / FRAME_SHIFT
        }
    }

    /// Mean-normalised log mel features, row-major `[frames][NUM_BINS]`.
    pub fn compute(&self, samples: &[f32]) -> Vec<f32> {
        let mut out = self.log_mel(samples);
        let frames = out.len() / NUM_BINS;
        // Per-segment mean normalisation over time.
        if frames > 0 {
            for bin in 0..NUM_BINS {
                let mean =
                    (0..frames).map(|f| out[f * NUM_BINS + bin]).sum::<f32>() / frames as f32;
                (0..frames).for_each(|f| out[f * NUM_BINS + bin] -= mean);
            }
        }
        out
    }

    /// Log mel energies before normalisation, row-major `[frames][NUM_BINS]`.
    fn log_mel(&self, samples: &[f32]) -> Vec<f32> {
        let frames = Self::num_frames(samples.len());
        let mut out = vec![0.0f32; frames * NUM_BINS];
        let mut buf = self.fft.make_input_vec();
        let mut spectrum = self.fft.make_output_vec();
        let mut power = vec![0.0f32; FFT_LEN / 2];
        for f in 0..frames {
            let frame = &samples[f * FRAME_SHIFT..f * FRAME_SHIFT + FRAME_LEN];
            // Kaldi works on 16-bit sample values.
            for (b, &s) in buf.iter_mut().zip(frame) {
                *b = s * 32768.0;
            }
            let mean = buf[..FRAME_LEN].iter().sum::<f32>() / FRAME_LEN as f32;
            buf[..FRAME_LEN].iter_mut().for_each(|b| *b -= mean);
            for i in (1..FRAME_LEN).rev() {
                buf[i] -= PREEMPHASIS * buf[i - 1];
            }
            buf[0] -= PREEMPHASIS * buf[0];
            for (b, w) in buf.iter_mut().zip(&self.window) {
                *b *= w;
            }
            buf[FRAME_LEN..].iter_mut().for_each(|b| *b = 0.0);
            self.fft
                .process(&mut buf, &mut spectrum)
                .expect("FFT buffers have the planned sizes");
            for (p, c) in power.iter_mut().zip(&spectrum) {
                *p = c.norm_sqr();
            }
            let row = &mut out[f * NUM_BINS..(f + 1) * NUM_BINS];
            for (r, (first, weights)) in row.iter_mut().zip(&self.banks) {
                let e: f32 = weights
                    .iter()
                    .zip(&power[*first..])
                    .map(|(w, p)| w * p)
                    .sum();
                *r = e.max(f32::EPSILON).ln();
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_count_follows_snip_edges() {
        assert_eq!(Fbank::num_frames(399), 0);
        assert_eq!(Fbank::num_frames(400), 1);
        assert_eq!(Fbank::num_frames(24_000), 148);
    }

    #[test]
    fn a_sine_peaks_in_the_mel_bin_of_its_frequency() {
        let fb = Fbank::new();
        let (lo, hi) = (mel(LOW_FREQ), mel(8000.0));
        for &hz in &[300.0f32, 1000.0, 3000.0] {
            let tone: Vec<f32> = (0..4000)
                .map(|i| (2.0 * std::f32::consts::PI * hz * i as f32 / 16_000.0).sin() * 0.3)
                .collect();
            let feats = fb.log_mel(&tone);
            let row = &feats[5 * NUM_BINS..6 * NUM_BINS];
            let peak = (0..NUM_BINS)
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .unwrap() as f32;
            // Bin m is centred at mel_low + (m + 1) * delta.
            let expected = (mel(hz) - lo) / ((hi - lo) / (NUM_BINS + 1) as f32) - 1.0;
            assert!(
                (peak - expected).abs() <= 1.0,
                "{hz} Hz: peak {peak}, expected {expected}"
            );
        }
    }

    #[test]
    fn normalised_features_have_zero_mean_per_bin() {
        let fb = Fbank::new();
        let noise: Vec<f32> = (0..8000)
            .map(|i| ((i * 7919 % 1000) as f32 / 1000.0 - 0.5) * 0.1)
            .collect();
        let feats = fb.compute(&noise);
        let frames = feats.len() / NUM_BINS;
        for bin in 0..NUM_BINS {
            let mean: f32 =
                (0..frames).map(|f| feats[f * NUM_BINS + bin]).sum::<f32>() / frames as f32;
            assert!(mean.abs() < 1e-4);
        }
    }
}
