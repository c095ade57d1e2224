//! Whisper's weight matrices in bf16, converted in memory from an f16 ggml file at load
//! time, for CPUs whose ggml build has AVX512-BF16 dot products.
//!
//! Why: ggml's tinyBLAS multiplies bf16 matrices with `vdpbf16ps`, two products per lane
//! per instruction, where f16 matrices are first widened to f32. Measured on an AMD EPYC
//! with AVX512-BF16 (2 cores, `--no-diarize`, rapid.m4a): base 18.2 -> 16.3 s and
//! 15.7 -> 14.4 s, tiny.en 2-5% faster; WER the same on the samples except base on the
//! panel (7.5 -> 6.9%) and rapid (20.3 -> 20.4%) (README, "Speed and memory"). bf16 has
//! f32's exponent range and 8 bits of mantissa against f16's 11.
//!
//! Why in memory: a second file per model would double the downloads and the cache, and
//! the choice depends on the CPU the binary runs on, not on the machine that fetched it.
//!
//! The file layout (whisper.cpp's loader): magic, 11 i32 hyper-parameters ending with the
//! ftype, the mel filters (two i32 then f32s), the vocabulary (i32 count, then a u32
//! length and the bytes of each token), then tensors to the end: i32 n_dims, i32 name
//! length, i32 type, the dims, the name, the data. whisper.cpp creates every 2-D matrix with the file's ftype and
//! keeps the 3-D convolution kernels f16 and the positional embeddings f32, so the 2-D f16
//! tensors are exactly the ones to convert.

use anyhow::{bail, Result};
use half::{bf16, f16};

const GGML_TYPE_F32: i32 = 0;
const GGML_TYPE_F16: i32 = 1;
const GGML_TYPE_BF16: i32 = 30;
const GGML_FTYPE_MOSTLY_F16: i32 = 1;
const GGML_FTYPE_MOSTLY_BF16: i32 = 24;
/// Offset of the ftype: magic + 10 hyper-parameters before it.
const FTYPE_OFFSET: usize = 4 + 10 * 4;

/// Does this process's ggml have bf16 dot products (compiled in, and so - for a native
/// build - present on this CPU)? whisper.cpp's system line says so.
pub fn cpu_has_bf16_kernels() -> bool {
    whisper_rs::print_system_info().contains("AVX512_BF16 = 1")
}

fn read_i32(buf: &[u8], pos: &mut usize) -> Result<i32> {
    let Some(b) = buf.get(*pos..*pos + 4) else {
        bail!("ggml file ends early at byte {}", *pos);
    };
    *pos += 4;
    Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn skip(buf: &[u8], pos: &mut usize, n: usize) -> Result<()> {
    if buf.len() < *pos + n {
        bail!("ggml file ends early at byte {}", *pos);
    }
    *pos += n;
    Ok(())
}

/// Rewrite an f16 whisper ggml file in place so its weight matrices are bf16. Returns
/// false (and leaves the buffer as it was) for any other weight type (f32, bf16 or
/// quantized files are loaded as they are).
pub fn convert_f16_matrices_to_bf16(buf: &mut [u8]) -> Result<bool> {
    let mut pos = FTYPE_OFFSET;
    let ftype = read_i32(buf, &mut pos)?;
    if ftype != GGML_FTYPE_MOSTLY_F16 {
        return Ok(false);
    }
    // Mel filters.
    let n_mel = read_i32(buf, &mut pos)?.max(0) as usize;
    let n_fft = read_i32(buf, &mut pos)?.max(0) as usize;
    skip(buf, &mut pos, n_mel * n_fft * 4)?;
    // Vocabulary.
    let n_vocab = read_i32(buf, &mut pos)?.max(0);
    for _ in 0..n_vocab {
        let len = read_i32(buf, &mut pos)? as u32 as usize;
        skip(buf, &mut pos, len)?;
    }
    // First pass: find the tensors to convert, so a malformed file changes nothing.
    let mut matrices = Vec::new();
    while pos < buf.len() {
        let header = pos;
        let n_dims = read_i32(buf, &mut pos)?;
        let name_len = read_i32(buf, &mut pos)?.max(0) as usize;
        let ttype = read_i32(buf, &mut pos)?;
        if !(1..=4).contains(&n_dims) {
            bail!("ggml tensor at byte {header} has {n_dims} dimensions");
        }
        let mut elements = 1usize;
        for _ in 0..n_dims {
            elements *= read_i32(buf, &mut pos)?.max(0) as usize;
        }
        skip(buf, &mut pos, name_len)?;
        let bytes = match ttype {
            GGML_TYPE_F32 => elements * 4,
            GGML_TYPE_F16 => elements * 2,
            other => bail!("ggml tensor at byte {header} has type {other} in an f16 file"),
        };
        let data = pos;
        skip(buf, &mut pos, bytes)?;
        if ttype == GGML_TYPE_F16 && n_dims == 2 {
            matrices.push((header + 8, data, bytes));
        }
    }
    for (type_at, data, bytes) in matrices {
        buf[type_at..type_at + 4].copy_from_slice(&GGML_TYPE_BF16.to_le_bytes());
        for pair in buf[data..data + bytes].chunks_exact_mut(2) {
            let x = f16::from_le_bytes([pair[0], pair[1]]).to_f32();
            pair.copy_from_slice(&bf16::from_f32(x).to_le_bytes());
        }
    }
    buf[FTYPE_OFFSET..FTYPE_OFFSET + 4].copy_from_slice(&GGML_FTYPE_MOSTLY_BF16.to_le_bytes());
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push_i32(out: &mut Vec<u8>, v: i32) {
        out.extend_from_slice(&v.to_le_bytes());
    }

    /// A miniature whisper file: header, 1x2 mel filters, two tokens, then a 2-D f16
    /// matrix, a 3-D f16 kernel and a 2-D f32 embedding.
    fn tiny_file(ftype: i32) -> Vec<u8> {
        let mut f = Vec::new();
        push_i32(&mut f, 0x67676d6c);
        for v in [2, 4, 8, 1, 1, 4, 8, 1, 1, 80] {
            push_i32(&mut f, v);
        }
        push_i32(&mut f, ftype);
        push_i32(&mut f, 1);
        push_i32(&mut f, 2);
        f.extend_from_slice(&[0u8; 8]);
        push_i32(&mut f, 2);
        for tok in [&b"hi"[..], &b"you"[..]] {
            push_i32(&mut f, tok.len() as i32);
            f.extend_from_slice(tok);
        }
        let tensor = |f: &mut Vec<u8>, name: &str, ttype: i32, dims: &[i32], data: &[u8]| {
            push_i32(f, dims.len() as i32);
            push_i32(f, name.len() as i32);
            push_i32(f, ttype);
            dims.iter().for_each(|&d| push_i32(f, d));
            f.extend_from_slice(name.as_bytes());
            f.extend_from_slice(data);
        };
        let halves: Vec<u8> = [1.0f32, -2.5, 0.1, 3.0e4]
            .iter()
            .flat_map(|&x| f16::from_f32(x).to_le_bytes())
            .collect();
        tensor(
            &mut f,
            "decoder.blocks.0.mlp.0.weight",
            GGML_TYPE_F16,
            &[2, 2],
            &halves,
        );
        tensor(
            &mut f,
            "encoder.conv1.weight",
            GGML_TYPE_F16,
            &[1, 2, 2],
            &halves,
        );
        tensor(
            &mut f,
            "encoder.positional_embedding",
            GGML_TYPE_F32,
            &[1, 1],
            &[0, 0, 128, 63],
        );
        f
    }

    #[test]
    fn matrices_become_bf16_and_everything_else_stays() {
        let original = tiny_file(GGML_FTYPE_MOSTLY_F16);
        let mut f = original.clone();
        assert!(convert_f16_matrices_to_bf16(&mut f).unwrap());
        assert_eq!(f.len(), original.len());
        let mut pos = FTYPE_OFFSET;
        assert_eq!(read_i32(&f, &mut pos).unwrap(), GGML_FTYPE_MOSTLY_BF16);
        // The matrix: type 30, values rounded to bf16.
        let matrix = f
            .windows(29)
            .position(|w| w == b"decoder.blocks.0.mlp.0.weight")
            .unwrap();
        let type_at = matrix - 4 * 2 - 4;
        assert_eq!(&f[type_at..type_at + 4], &GGML_TYPE_BF16.to_le_bytes());
        let values: Vec<f32> = f[matrix + 29..matrix + 29 + 8]
            .chunks_exact(2)
            .map(|p| bf16::from_le_bytes([p[0], p[1]]).to_f32())
            .collect();
        assert_eq!(values[0], 1.0);
        assert_eq!(values[1], -2.5);
        assert!((values[2] - 0.1).abs() < 0.001, "{}", values[2]);
        // f16's 30000 rounded to bf16's 8-bit mantissa.
        assert_eq!(values[3], 29952.0);
        // The convolution kernel and the f32 embedding are untouched.
        let conv = f
            .windows(20)
            .position(|w| w == b"encoder.conv1.weight")
            .unwrap();
        assert_eq!(f[conv - 20..], original[conv - 20..]);
    }

    #[test]
    fn other_weight_types_are_left_alone_and_truncation_is_an_error() {
        let mut q8 = tiny_file(7);
        let before = q8.clone();
        assert!(!convert_f16_matrices_to_bf16(&mut q8).unwrap());
        assert_eq!(q8, before);
        let mut cut = tiny_file(GGML_FTYPE_MOSTLY_F16);
        cut.truncate(cut.len() - 3);
        let before = cut.clone();
        assert!(convert_f16_matrices_to_bf16(&mut cut).is_err());
        assert_eq!(cut, before);
    }
}
