//! Reading a whole short file as 16 kHz mono (enrollment clips, tests).

use std::path::Path;

use anyhow::Result;

use crate::resample::StreamResampler;

pub fn read_clip_16k(path: &Path) -> Result<Vec<f32>> {
    let mut source = super::open_file(path)?;
    let mut resampler = StreamResampler::new(source.sample_rate())?;
    let mut out = Vec::new();
    while let Some(block) = source.next_block()? {
        resampler.push(&block, &mut out)?;
    }
    resampler.finish(&mut out)?;
    if let Some(reason) = source.stopped_early() {
        anyhow::bail!(reason);
    }
    Ok(out)
}
