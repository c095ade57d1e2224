//! The live path's hand-off: a lock-free single-producer ring of mono samples between
//! whoever captures audio in real time (the cpal callback, or a file fed at wall-clock
//! pace) and the pipeline's reader thread. Pushing never blocks and never allocates, so
//! it is safe inside an audio callback; samples that do not fit are counted as dropped.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use rtrb::{Consumer, Producer, RingBuffer};

use super::{AudioSource, PcmBlock};

/// Counters both ends can read.
#[derive(Debug, Default)]
pub struct RingStats {
    pub pushed: AtomicU64,
    pub dropped: AtomicU64,
    /// Set by the feeding side when its input has ended.
    pub finished: AtomicBool,
}

pub struct RingFeed {
    producer: Producer<f32>,
    stats: Arc<RingStats>,
}

impl RingFeed {
    /// Push without blocking; what does not fit is dropped and counted.
    pub fn push(&mut self, samples: &[f32]) {
        let n = samples.len().min(self.producer.slots());
        if n > 0 {
            if let Ok(mut chunk) = self.producer.write_chunk_uninit(n) {
                let (a, b) = chunk.as_mut_slices();
                let (first, rest) = samples[..n].split_at(a.len());
                for (d, s) in a.iter_mut().zip(first) {
                    d.write(*s);
                }
                for (d, s) in b.iter_mut().zip(rest) {
                    d.write(*s);
                }
                // SAFETY: every slot of the chunk was written above.
                unsafe { chunk.commit_all() };
            }
        }
        self.stats.pushed.fetch_add(n as u64, Ordering::Relaxed);
        if n < samples.len() {
            self.stats
                .dropped
                .fetch_add((samples.len() - n) as u64, Ordering::Relaxed);
        }
    }

    pub fn finish(&self) {
        self.stats.finished.store(true, Ordering::SeqCst);
    }
}

/// The reading end, an [`AudioSource`] that waits for samples and ends when the feed has
/// finished, `stop` is raised, or `limit` samples were read.
pub struct RingSource {
    consumer: Consumer<f32>,
    rate: u32,
    stats: Arc<RingStats>,
    stop: Arc<AtomicBool>,
    limit: Option<u64>,
    read: u64,
}

/// A ring holding `seconds` of audio at `rate`.
pub fn ring(
    rate: u32,
    seconds: f64,
    stop: Arc<AtomicBool>,
    limit_s: Option<f64>,
) -> (RingFeed, RingSource, Arc<RingStats>) {
    let (producer, consumer) = RingBuffer::new((rate as f64 * seconds) as usize);
    let stats = Arc::new(RingStats::default());
    (
        RingFeed {
            producer,
            stats: Arc::clone(&stats),
        },
        RingSource {
            consumer,
            rate,
            stats: Arc::clone(&stats),
            stop,
            limit: limit_s.map(|s| (s * rate as f64) as u64),
            read: 0,
        },
        stats,
    )
}

impl AudioSource for RingSource {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn duration_hint(&self) -> Option<f64> {
        None
    }

    fn next_block(&mut self) -> Result<Option<PcmBlock>> {
        loop {
            let want = self
                .limit
                .map_or(usize::MAX, |l| l.saturating_sub(self.read) as usize);
            if want == 0 || self.stop.load(Ordering::SeqCst) {
                return Ok(None);
            }
            let n = self.consumer.slots().min(want);
            if n > 0 {
                let chunk = self.consumer.read_chunk(n).expect("n slots are readable");
                let (a, b) = chunk.as_slices();
                let mut block = Vec::with_capacity(n);
                block.extend_from_slice(a);
                block.extend_from_slice(b);
                chunk.commit_all();
                self.read += n as u64;
                return Ok(Some(block));
            }
            if self.stats.finished.load(Ordering::SeqCst) {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_pass_in_order_and_overflow_is_counted() {
        let stop = Arc::new(AtomicBool::new(false));
        let (mut feed, mut source, stats) = ring(100, 1.0, stop, None);
        let input: Vec<f32> = (0..150).map(|i| i as f32).collect();
        feed.push(&input);
        assert_eq!(stats.dropped.load(Ordering::Relaxed), 50);
        feed.finish();
        let mut got = Vec::new();
        while let Some(b) = source.next_block().unwrap() {
            got.extend(b);
        }
        assert_eq!(got, input[..100].to_vec());
    }

    #[test]
    fn a_limit_ends_the_stream() {
        let stop = Arc::new(AtomicBool::new(false));
        let (mut feed, mut source, _) = ring(100, 1.0, stop, Some(0.3));
        feed.push(&[0.5; 80]);
        let mut n = 0;
        while let Some(b) = source.next_block().unwrap() {
            n += b.len();
        }
        assert_eq!(n, 30);
    }
}
