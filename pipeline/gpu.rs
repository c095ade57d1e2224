//! `--gpu auto|on|off` against what this build has and what the machine has.
//!
//! The devices come from ggml's backend registry, the same list whisper.cpp picks from,
//! so "a GPU was found" here means whisper.cpp will use it. In a CPU build the registry
//! holds only the CPU and the list is empty.

use std::ffi::CStr;

use anyhow::{bail, Result};
use whisper_rs::whisper_rs_sys as sys;

use crate::cli::GpuFlag;

/// Whether this binary was built with a GPU backend (scripts/build-cuda).
pub fn gpu_compiled_in() -> bool {
    cfg!(feature = "cuda")
}

/// One GPU as ggml describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct GpuDevice {
    pub name: String,
    pub description: String,
    pub memory_total_bytes: usize,
}

/// The GPUs ggml can use in this process (none without a driver or a device).
pub fn gpu_devices() -> Vec<GpuDevice> {
    let mut devices = Vec::new();
    // SAFETY: the registry is initialised by ggml on first use and lives for the whole
    // process; device handles and the strings they return are owned by it.
    unsafe {
        for index in 0..sys::ggml_backend_dev_count() {
            let device = sys::ggml_backend_dev_get(index);
            if device.is_null() {
                continue;
            }
            let kind = sys::ggml_backend_dev_type(device);
            if kind != sys::ggml_backend_dev_type_GGML_BACKEND_DEVICE_TYPE_GPU {
                continue;
            }
            let text = |p: *const std::os::raw::c_char| {
                if p.is_null() {
                    String::new()
                } else {
                    CStr::from_ptr(p).to_string_lossy().into_owned()
                }
            };
            let (mut free, mut total) = (0usize, 0usize);
            sys::ggml_backend_dev_memory(device, &mut free, &mut total);
            devices.push(GpuDevice {
                name: text(sys::ggml_backend_dev_name(device)),
                description: text(sys::ggml_backend_dev_description(device)),
                memory_total_bytes: total,
            });
        }
    }
    devices
}

/// Whether to ask whisper.cpp for the GPU. With `on`, a missing GPU is an error.
pub fn resolve(flag: GpuFlag) -> Result<bool> {
    if flag == GpuFlag::Off {
        return Ok(false);
    }
    let devices = if gpu_compiled_in() {
        gpu_devices()
    } else {
        Vec::new()
    };
    let use_gpu = decide(flag, gpu_compiled_in(), devices.len())?;
    if use_gpu {
        let first = &devices[0];
        eprintln!(
            "GPU: {} ({}, {:.1} GiB)",
            first.description,
            first.name,
            first.memory_total_bytes as f64 / (1u64 << 30) as f64
        );
    }
    Ok(use_gpu)
}

fn decide(flag: GpuFlag, compiled: bool, device_count: usize) -> Result<bool> {
    match (flag, compiled, device_count) {
        (GpuFlag::Off, _, _) => Ok(false),
        (GpuFlag::Auto, compiled, count) => Ok(compiled && count > 0),
        (GpuFlag::On, false, _) => {
            bail!(
                "--gpu on: this build has no GPU support (CPU only); build with scripts/build-cuda"
            )
        }
        (GpuFlag::On, true, 0) => bail!(
            "--gpu on: no usable CUDA device found (no NVIDIA GPU, or no driver); use --gpu auto or off"
        ),
        (GpuFlag::On, true, _) => Ok(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_without_a_gpu_build_is_an_error() {
        let err = decide(GpuFlag::On, false, 0).unwrap_err().to_string();
        assert!(err.contains("no GPU support"), "{err}");
    }

    #[test]
    fn on_without_a_device_is_an_error() {
        let err = decide(GpuFlag::On, true, 0).unwrap_err().to_string();
        assert!(err.contains("no usable CUDA device"), "{err}");
    }

    #[test]
    fn auto_uses_a_gpu_only_when_built_and_present() {
        assert!(!decide(GpuFlag::Auto, false, 0).unwrap());
        assert!(!decide(GpuFlag::Auto, false, 1).unwrap());
        assert!(!decide(GpuFlag::Auto, true, 0).unwrap());
        assert!(decide(GpuFlag::Auto, true, 1).unwrap());
        assert!(decide(GpuFlag::On, true, 2).unwrap());
        assert!(!decide(GpuFlag::Off, true, 1).unwrap());
    }

    #[test]
    fn this_cpu_build_lists_no_gpu() {
        if !gpu_compiled_in() {
            assert!(gpu_devices().is_empty());
        }
    }
}
