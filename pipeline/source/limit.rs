//! `--duration` for sources that are not the live ring (an HLS stream): stop after so
//! many seconds of audio.

use anyhow::Result;

use super::{AudioSource, PcmBlock};

pub struct Limited {
    inner: Box<dyn AudioSource>,
    left: u64,
}

impl Limited {
    pub fn new(inner: Box<dyn AudioSource>, seconds: f64) -> Self {
        let left = (seconds.max(0.0) * inner.sample_rate() as f64) as u64;
        Self { inner, left }
    }
}

impl AudioSource for Limited {
    fn sample_rate(&self) -> u32 {
        self.inner.sample_rate()
    }

    fn duration_hint(&self) -> Option<f64> {
        self.inner.duration_hint()
    }

    fn next_block(&mut self) -> Result<Option<PcmBlock>> {
        if self.left == 0 {
            return Ok(None);
        }
        let Some(mut block) = self.inner.next_block()? else {
            return Ok(None);
        };
        block.truncate(block.len().min(self.left as usize));
        self.left -= block.len() as u64;
        Ok(Some(block))
    }

    fn stopped_early(&self) -> Option<String> {
        self.inner.stopped_early()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Ones;
    impl AudioSource for Ones {
        fn sample_rate(&self) -> u32 {
            10
        }
        fn duration_hint(&self) -> Option<f64> {
            None
        }
        fn next_block(&mut self) -> Result<Option<PcmBlock>> {
            Ok(Some(vec![1.0; 4]))
        }
    }

    #[test]
    fn stops_after_the_limit() {
        let mut s = Limited::new(Box::new(Ones), 1.5);
        let mut n = 0;
        while let Some(b) = s.next_block().unwrap() {
            n += b.len();
        }
        assert_eq!(n, 15);
    }
}
