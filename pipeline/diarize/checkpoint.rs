//! Reading the tensors of a zip-format PyTorch checkpoint (`torch.save` since 1.6).
//!
//! candle's `pickle::read_all` re-opens the file and re-reads the zip's central directory
//! for every tensor, which is quadratic in the tensor count: CAM++ has ~900 (batch-norm
//! statistics included) and took about 0.4 s to load that way, a tenth of a short file's
//! whole transcription. Here candle parses the pickle once for the tensor layouts and one
//! zip archive serves every read.

use std::io::{BufReader, Read};
use std::path::Path;

use anyhow::{bail, Context, Result};
use candle_core::{Device, Tensor};

/// Every tensor of the checkpoint at `path` (under `key`, e.g. `state_dict`, when the
/// checkpoint holds more than the weights), by name, in the file's order.
pub fn read_tensors(path: &Path, key: Option<&str>) -> Result<Vec<(String, Tensor)>> {
    let infos = candle_core::pickle::read_pth_tensor_info(path, false, key)?;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file))?;
    let mut out = Vec::with_capacity(infos.len());
    for info in infos {
        let layout = &info.layout;
        let fortran = layout.is_fortran_contiguous();
        if !layout.is_contiguous() && !fortran {
            bail!(
                "tensor {} is stored strided, which is not supported",
                info.name
            );
        }
        let mut reader = BufReader::new(zip.by_name(&info.path)?);
        std::io::copy(
            &mut reader.by_ref().take(layout.start_offset() as u64),
            &mut std::io::sink(),
        )?;
        let mut bytes = vec![0u8; layout.shape().elem_count() * info.dtype.size_in_bytes()];
        reader.read_exact(&mut bytes)?;
        let tensor = Tensor::from_raw_buffer(&bytes, info.dtype, layout.dims(), &Device::Cpu)?;
        let rank = layout.shape().rank();
        let tensor = if rank > 1 && fortran {
            // Stored column-major: read with the dimensions reversed, then transposed back.
            let reversed: Vec<usize> = layout.dims().iter().rev().copied().collect();
            tensor
                .reshape(reversed)?
                .permute((0..rank).rev().collect::<Vec<_>>())?
        } else {
            tensor
        };
        out.push((info.name, tensor));
    }
    Ok(out)
}
