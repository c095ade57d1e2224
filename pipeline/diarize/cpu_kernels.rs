//! What the speaker models' hand-written CPU kernels (convolutions without im2col copies,
//! fused batch norms, the segmentation model's products) share: reading a candle tensor's
//! values in place (`to_vec1` would copy every tensor they read), and gemm's matrix
//! product as they all call it.

use anyhow::{bail, Result};
use candle_core::{Storage, Tensor};

/// Calls `f` with the values of `x` (an f32 tensor on the CPU) in row-major order, without
/// copying them unless `x` is a non-contiguous view.
pub fn with_f32_values<R>(x: &Tensor, f: impl FnOnce(&[f32]) -> R) -> Result<R> {
    let x = x.contiguous()?;
    let (storage, layout) = x.storage_and_layout();
    let Storage::Cpu(cpu) = &*storage else {
        bail!("the speaker models run on the CPU only");
    };
    let values = &cpu.as_slice::<f32>()?[layout.start_offset()..][..x.elem_count()];
    Ok(f(values))
}

/// `dst += lhs x rhs` (or `dst = lhs x rhs` when `!accumulate`) for an `m x n` result over
/// an inner size of `k`, on this thread only (candle is kept to one thread inside each
/// worker too). Every matrix is given by a pointer to its first element and its column
/// and row strides in elements; `dst`'s columns are contiguous.
///
/// # Safety
/// Every element the strides reach (`m` rows and `n` columns of `dst`, `m x k` of `lhs`,
/// `k x n` of `rhs`) must lie inside its allocation, and `dst` must not overlap the others.
#[allow(clippy::too_many_arguments)] // the three matrices' pointers and strides
pub unsafe fn gemm_f32(
    m: usize,
    n: usize,
    k: usize,
    dst: *mut f32,
    dst_rs: usize,
    accumulate: bool,
    lhs: *const f32,
    lhs_cs: usize,
    lhs_rs: usize,
    rhs: *const f32,
    rhs_cs: usize,
    rhs_rs: usize,
) {
    // SAFETY: the caller's promise above; alpha (1.0) only applies when dst is read.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            dst_rs as isize,
            accumulate,
            lhs,
            lhs_cs as isize,
            lhs_rs as isize,
            rhs,
            rhs_cs as isize,
            rhs_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn values_come_in_row_major_order_views_included() {
        let x = Tensor::from_vec((0..6).map(|v| v as f32).collect(), (2, 3), &Device::Cpu).unwrap();
        assert_eq!(
            with_f32_values(&x, <[f32]>::to_vec).unwrap(),
            [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
        );
        // A transposed view and a narrowed one are read as their own shape.
        let t = x.t().unwrap();
        assert_eq!(
            with_f32_values(&t, <[f32]>::to_vec).unwrap(),
            [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
        );
        let n = x.narrow(1, 1, 2).unwrap();
        assert_eq!(
            with_f32_values(&n, <[f32]>::to_vec).unwrap(),
            [1.0, 2.0, 4.0, 5.0]
        );
    }
}
