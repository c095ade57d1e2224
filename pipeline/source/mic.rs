//! Microphone capture with cpal: whatever rate, channel count and sample format the device
//! offers, downmixed to mono inside the audio callback into the live ring (`ring.rs`).
//! The callback only converts and pushes into preallocated memory: no locks, no
//! allocation, no blocking.

use anyhow::{anyhow, bail, Context, Result};
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample};

use super::ring::RingFeed;

/// Frames converted per step inside the callback (the scratch buffer is this long).
const SCRATCH_FRAMES: usize = 4096;

/// Keeps ALSA from printing its own error lines on this thread while devices are probed
/// (a machine without a sound card would otherwise get a screenful); drop to restore.
pub fn quiet_backend_errors() -> Option<Box<dyn std::any::Any>> {
    #[cfg(target_os = "linux")]
    {
        alsa::Output::local_error_handler()
            .ok()
            .map(|h| Box::new(h) as Box<dyn std::any::Any>)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// Names of the input devices this machine has (empty when none).
pub fn list_input_devices() -> Result<Vec<String>> {
    let host = cpal::default_host();
    let devices = host
        .input_devices()
        .map_err(|e| anyhow!("cannot list audio devices: {e}"))?;
    Ok(devices.map(|d| device_name(&d)).collect())
}

fn device_name(d: &cpal::Device) -> String {
    d.description()
        .map(|desc| desc.name().to_string())
        .or_else(|_| d.id().map(|id| id.to_string()))
        .unwrap_or_else(|_| "unknown device".into())
}

/// A running capture; dropping it stops the stream.
pub struct Microphone {
    _stream: cpal::Stream,
    pub rate: u32,
    pub channels: u16,
    pub name: String,
}

/// The device to capture from: `name` (as `--list-devices` prints it) or the default.
pub fn find_device(name: Option<&str>) -> Result<cpal::Device> {
    let host = cpal::default_host();
    match name {
        None => host.default_input_device().ok_or_else(|| {
            anyhow!("no audio input device found (spacescribe live --list-devices; or --input-file FILE)")
        }),
        Some(want) => host
            .input_devices()
            .map_err(|e| anyhow!("cannot list audio devices: {e}"))?
            .find(|d| device_name(d) == want)
            .ok_or_else(|| anyhow!("no input device named '{want}' (see --list-devices)")),
    }
}

/// The device's native rate, read before the ring is sized.
pub fn device_rate(device: &cpal::Device) -> Result<u32> {
    let config = device.default_input_config().map_err(|e| {
        anyhow!("no usable audio input device ({e}); use --input-file FILE to run without one")
    })?;
    Ok(config.sample_rate())
}

pub fn start(device: cpal::Device, feed: RingFeed) -> Result<Microphone> {
    let name = device_name(&device);
    let config = device
        .default_input_config()
        .map_err(|e| anyhow!("{name}: no usable input format: {e}"))?;
    let channels = config.channels();
    let rate = config.sample_rate();
    let format = config.sample_format();
    let stream_config: cpal::StreamConfig = config.into();
    let stream = match format {
        SampleFormat::F32 => build::<f32>(&device, &stream_config, channels, feed),
        SampleFormat::I16 => build::<i16>(&device, &stream_config, channels, feed),
        SampleFormat::U16 => build::<u16>(&device, &stream_config, channels, feed),
        SampleFormat::I32 => build::<i32>(&device, &stream_config, channels, feed),
        SampleFormat::U8 => build::<u8>(&device, &stream_config, channels, feed),
        SampleFormat::I8 => build::<i8>(&device, &stream_config, channels, feed),
        SampleFormat::F64 => build::<f64>(&device, &stream_config, channels, feed),
        other => bail!("{name}: unsupported sample format {other:?}"),
    }
    .with_context(|| format!("cannot open {name}"))?;
    stream
        .play()
        .map_err(|e| anyhow!("cannot start capturing from {name}: {e}"))?;
    Ok(Microphone {
        _stream: stream,
        rate,
        channels,
        name,
    })
}

fn build<T>(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    channels: u16,
    mut feed: RingFeed,
) -> Result<cpal::Stream>
where
    T: SizedSample,
    f32: FromSample<T>,
{
    let channels = channels.max(1) as usize;
    let mut scratch = vec![0.0f32; SCRATCH_FRAMES];
    let scale = 1.0 / channels as f32;
    let stream = device
        .build_input_stream(
            *config,
            move |data: &[T], _: &cpal::InputCallbackInfo| {
                for block in data.chunks(SCRATCH_FRAMES * channels) {
                    let frames = block.len() / channels;
                    for (out, frame) in scratch.iter_mut().zip(block.chunks_exact(channels)) {
                        *out = frame
                            .iter()
                            .map(|s| <f32 as FromSample<T>>::from_sample_(*s))
                            .sum::<f32>()
                            * scale;
                    }
                    feed.push(&scratch[..frames]);
                }
            },
            |err| eprintln!("warning: audio input: {err}"),
            None,
        )
        .map_err(|e| anyhow!("{e}"))?;
    Ok(stream)
}
