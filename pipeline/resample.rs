//! Streaming conversion of mono audio at any rate to whisper's 16 kHz, with rubato.
//!
//! Buffers are allocated once (from `input_frames_max`/`output_frames_max`), the
//! resampler's start-up delay is trimmed so sample 0 out lines up with sample 0 in, and
//! `finish` flushes the tail, so timestamps downstream are exact.

use anyhow::{Context, Result};
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler};

pub const WHISPER_SAMPLE_RATE: u32 = 16_000;

/// Input frames per resampler call: big enough to be efficient, small enough for live use.
const CHUNK_FRAMES: usize = 1024;

pub struct StreamResampler {
    inner: Option<Fft<f32>>,
    pending: Vec<f32>,
    out_buf: Vec<f32>,
    /// Output frames still to drop at the start (the resampler's delay).
    to_trim: usize,
    input_frames: u64,
    output_frames: u64,
    ratio: f64,
}

impl StreamResampler {
    pub fn new(input_rate: u32) -> Result<Self> {
        let ratio = WHISPER_SAMPLE_RATE as f64 / input_rate as f64;
        if input_rate == WHISPER_SAMPLE_RATE {
            return Ok(Self {
                inner: None,
                pending: Vec::new(),
                out_buf: Vec::new(),
                to_trim: 0,
                input_frames: 0,
                output_frames: 0,
                ratio,
            });
        }
        let inner = Fft::<f32>::new(
            input_rate as usize,
            WHISPER_SAMPLE_RATE as usize,
            CHUNK_FRAMES,
            1,
            FixedSync::Input,
        )
        .with_context(|| format!("cannot resample from {input_rate} Hz"))?;
        let to_trim = inner.output_delay();
        let out_buf = vec![0.0; inner.output_frames_max()];
        Ok(Self {
            pending: Vec::with_capacity(inner.input_frames_max() * 2),
            inner: Some(inner),
            out_buf,
            to_trim,
            input_frames: 0,
            output_frames: 0,
            ratio,
        })
    }

    /// Resample `input`, appending 16 kHz samples to `out`.
    pub fn push(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<()> {
        self.input_frames += input.len() as u64;
        let Some(inner) = self.inner.as_mut() else {
            out.extend_from_slice(input);
            self.output_frames += input.len() as u64;
            return Ok(());
        };
        self.pending.extend_from_slice(input);
        let mut consumed = 0;
        loop {
            let need = inner.input_frames_next();
            if self.pending.len() - consumed < need {
                break;
            }
            let chunk = &self.pending[consumed..consumed + need];
            let produced = run_chunk(inner, chunk, None, &mut self.out_buf)?;
            consumed += need;
            emit(
                &self.out_buf[..produced],
                &mut self.to_trim,
                &mut self.output_frames,
                None,
                out,
            );
        }
        self.pending.drain(..consumed);
        Ok(())
    }

    /// Flush what is left; the total output is `round(input * 16000 / rate)` frames.
    pub fn finish(&mut self, out: &mut Vec<f32>) -> Result<()> {
        let Some(inner) = self.inner.as_mut() else {
            return Ok(());
        };
        let expected = (self.input_frames as f64 * self.ratio).round() as u64;
        let mut pending = std::mem::take(&mut self.pending);
        while self.output_frames < expected {
            let need = inner.input_frames_next();
            let take = pending.len().min(need);
            let mut chunk = vec![0.0; need];
            chunk[..take].copy_from_slice(&pending[..take]);
            pending.drain(..take);
            let produced = run_chunk(inner, &chunk, Some(take), &mut self.out_buf)?;
            emit(
                &self.out_buf[..produced],
                &mut self.to_trim,
                &mut self.output_frames,
                Some(expected),
                out,
            );
        }
        Ok(())
    }
}

fn run_chunk(
    inner: &mut Fft<f32>,
    chunk: &[f32],
    partial_len: Option<usize>,
    out_buf: &mut [f32],
) -> Result<usize> {
    let input = InterleavedSlice::new(chunk, 1, chunk.len()).context("resampler input")?;
    let out_len = out_buf.len();
    let mut output = InterleavedSlice::new_mut(out_buf, 1, out_len).context("resampler output")?;
    let indexing = Indexing {
        partial_len,
        ..Default::default()
    };
    let (_, produced) = inner
        .process_into_buffer(&input, &mut output, Some(&indexing))
        .context("resampling failed")?;
    Ok(produced)
}

/// Append `produced` to `out`, first dropping the start-up delay and never passing `limit`.
fn emit(
    produced: &[f32],
    to_trim: &mut usize,
    output_frames: &mut u64,
    limit: Option<u64>,
    out: &mut Vec<f32>,
) {
    let skip = (*to_trim).min(produced.len());
    *to_trim -= skip;
    let mut keep = &produced[skip..];
    if let Some(limit) = limit {
        let room = limit.saturating_sub(*output_frames) as usize;
        keep = &keep[..keep.len().min(room)];
    }
    out.extend_from_slice(keep);
    *output_frames += keep.len() as u64;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, freq: f32, seconds: f32) -> Vec<f32> {
        let n = (rate as f32 * seconds) as usize;
        (0..n)
            .map(|i| (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin() * 0.5)
            .collect()
    }

    fn resample_in_blocks(rate: u32, input: &[f32], block: usize) -> Vec<f32> {
        let mut rs = StreamResampler::new(rate).unwrap();
        let mut out = Vec::new();
        for b in input.chunks(block) {
            rs.push(b, &mut out).unwrap();
        }
        rs.finish(&mut out).unwrap();
        out
    }

    #[test]
    fn output_length_matches_ratio_for_every_rate_and_block_size() {
        for &rate in &[8_000u32, 22_050, 44_100, 48_000, 16_000] {
            let input = sine(rate, 440.0, 1.3);
            for &block in &[1usize, 100, 1024, 4096, 50_000] {
                let out = resample_in_blocks(rate, &input, block);
                let expected = (input.len() as f64 * 16_000.0 / rate as f64).round() as usize;
                assert_eq!(out.len(), expected, "rate {rate} block {block}");
            }
        }
    }

    #[test]
    fn sine_keeps_its_phase_so_timestamps_line_up() {
        // A 440 Hz sine at 48 kHz must come out as the same sine at 16 kHz, not delayed.
        let input = sine(48_000, 440.0, 1.0);
        let out = resample_in_blocks(48_000, &input, 960);
        let reference = sine(16_000, 440.0, 1.0);
        // Compare the middle (edges carry filter ringing).
        let err: f32 = out[2000..14000]
            .iter()
            .zip(&reference[2000..14000])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err < 0.01, "max error {err}");
    }

    #[test]
    fn passthrough_at_16k() {
        let input = sine(16_000, 300.0, 0.5);
        assert_eq!(resample_in_blocks(16_000, &input, 333), input);
    }
}
