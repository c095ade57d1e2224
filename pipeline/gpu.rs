//! `--gpu auto|on|off` against what this build has. whisper.cpp looks for a device itself
//! when asked to use one; we only decide whether to ask.

use anyhow::{bail, Result};

use crate::cli::GpuFlag;

/// Whether this binary was built with a GPU backend (scripts/build-cuda).
pub fn gpu_compiled_in() -> bool {
    cfg!(feature = "cuda")
}

/// Whether to ask whisper.cpp for the GPU.
pub fn resolve(flag: GpuFlag) -> Result<bool> {
    decide(flag, gpu_compiled_in())
}

fn decide(flag: GpuFlag, compiled: bool) -> Result<bool> {
    match (flag, compiled) {
        (GpuFlag::Off, _) => Ok(false),
        (GpuFlag::Auto, compiled) => Ok(compiled),
        (GpuFlag::On, true) => Ok(true),
        (GpuFlag::On, false) => {
            bail!(
                "--gpu on: this build has no GPU support (CPU only); build with scripts/build-cuda"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_without_a_gpu_build_is_an_error() {
        assert!(decide(GpuFlag::On, false)
            .unwrap_err()
            .to_string()
            .contains("no GPU support"));
        assert!(!decide(GpuFlag::Auto, false).unwrap());
        assert!(!decide(GpuFlag::Off, true).unwrap());
        assert!(decide(GpuFlag::On, true).unwrap());
    }
}
