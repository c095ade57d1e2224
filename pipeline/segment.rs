//! Cutting a 16 kHz stream into whisper-sized chunks at pauses.
//!
//! Three small pieces, each testable alone:
//! - [`RegionDetector`]: per-frame speech probabilities -> speech regions, with hysteresis,
//!   a minimum pause, a minimum length, and a forced split (at the least speech-like frame)
//!   of monologues longer than whisper's 30 s window.
//! - [`Chunker`]: merges neighbouring regions into chunks of at most 30 s, as WhisperX does,
//!   because whisper's encoder always processes 30 s: ten 3 s chunks cost ten times one
//!   30 s chunk. A long pause starts a new chunk so silence and music never reach whisper.
//! - [`Segmenter`]: owns the audio buffer and the VAD; memory is bounded by one chunk plus
//!   one VAD block, whatever the length of the recording.

use anyhow::Result;

use crate::resample::WHISPER_SAMPLE_RATE;
use crate::vad::{SpeechProbability, FRAME_SAMPLES};

const SR: f64 = WHISPER_SAMPLE_RATE as f64;

#[derive(Debug, Clone)]
pub struct SegmentOptions {
    /// Probability at which speech starts.
    pub onset: f32,
    /// Probability below which speech may end (hysteresis: lower than `onset`).
    pub offset: f32,
    /// A pause must last this long to end a region.
    pub min_silence_s: f64,
    /// Shorter regions are dropped as clicks or breaths.
    pub min_speech_s: f64,
    /// Audio kept on each side of a region so word edges are not clipped.
    pub pad_s: f64,
    /// Longest chunk handed to whisper.
    pub max_chunk_s: f64,
    /// A pause longer than this starts a new chunk.
    pub max_gap_s: f64,
    /// Frames per VAD call; smaller means lower latency (live), larger less overhead.
    pub vad_block_frames: usize,
    /// Hand each speech region to whisper the moment it ends instead of gathering
    /// regions into long chunks (live: nothing waits to learn whether the next region
    /// would fit; fitted encoder contexts keep short chunks cheap).
    pub close_each_region: bool,
    /// Once a region has lasted this long, any frame below `onset` ends it, however short
    /// the dip (live: a monologue is cut at its first breath after this, not 8 s in).
    pub split_at_dip_after_s: Option<f64>,
    /// How far back from the length limit a forced split looks for its cut (None: the
    /// whole second half). Live keeps it short so the first part is not held back long.
    pub split_window_s: Option<f64>,
}

impl Default for SegmentOptions {
    fn default() -> Self {
        Self {
            onset: 0.5,
            offset: 0.35,
            min_silence_s: 0.3,
            min_speech_s: 0.25,
            pad_s: 0.2,
            max_chunk_s: 30.0,
            max_gap_s: 3.0,
            vad_block_frames: 938, // about 30 s
            close_each_region: false,
            split_at_dip_after_s: None,
            split_window_s: None,
        }
    }
}

/// Frames of audio before each VAD block that are run again so Silero's LSTM state is warm
/// at the block's first frame (whisper.cpp resets it on every call).
const VAD_CONTEXT_FRAMES: usize = 16;

/// A region of speech in absolute frames, `end` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRegion {
    pub start: usize,
    pub end: usize,
}

/// Streaming hysteresis detector over per-frame probabilities.
pub struct RegionDetector {
    onset: f32,
    offset: f32,
    min_silence: usize,
    min_speech: usize,
    max_frames: usize,
    /// Region length after which a frame below `onset` ends it (`usize::MAX`: never).
    dip_split_frames: usize,
    /// Frames back from the limit a forced split may cut (`usize::MAX`: half the region).
    split_window: usize,
    next_frame: usize,
    start: Option<usize>,
    silence_from: Option<usize>,
    /// Probabilities of the open region (for choosing a split point).
    probs: Vec<f32>,
}

fn frames_for(seconds: f64) -> usize {
    (seconds * SR / FRAME_SAMPLES as f64).round() as usize
}

impl RegionDetector {
    pub fn new(opts: &SegmentOptions) -> Self {
        // The padded region must still fit in one chunk.
        let max_frames = frames_for(opts.max_chunk_s - 2.0 * opts.pad_s - 0.1).max(2);
        Self {
            onset: opts.onset,
            offset: opts.offset,
            min_silence: frames_for(opts.min_silence_s).max(1),
            min_speech: frames_for(opts.min_speech_s).max(1),
            max_frames,
            dip_split_frames: opts.split_at_dip_after_s.map_or(usize::MAX, frames_for),
            split_window: opts.split_window_s.map_or(usize::MAX, frames_for),
            next_frame: 0,
            start: None,
            silence_from: None,
            probs: Vec::new(),
        }
    }

    /// Feed the next frames' probabilities; finished regions are appended to `out`.
    pub fn push(&mut self, probs: &[f32], out: &mut Vec<FrameRegion>) {
        for &p in probs {
            let idx = self.next_frame;
            self.next_frame += 1;
            match self.start {
                None => {
                    if p >= self.onset {
                        self.start = Some(idx);
                        self.silence_from = None;
                        self.probs.clear();
                        self.probs.push(p);
                    }
                }
                Some(start) => {
                    if p < self.onset && idx - start >= self.dip_split_frames {
                        // Any dip, even one frame above `offset`, ends a long region here.
                        let from = self.silence_from.unwrap_or(idx);
                        self.close(start, from, out);
                        continue;
                    }
                    self.probs.push(p);
                    if p < self.offset {
                        let from = *self.silence_from.get_or_insert(idx);
                        if idx + 1 - from >= self.min_silence {
                            self.close(start, from, out);
                            continue;
                        }
                    } else {
                        self.silence_from = None;
                    }
                    if idx + 1 - start >= self.max_frames {
                        self.split(start, out);
                    }
                }
            }
        }
    }

    /// End of stream: close the open region.
    pub fn finish(&mut self, out: &mut Vec<FrameRegion>) {
        if let Some(start) = self.start {
            let end = self.silence_from.unwrap_or(self.next_frame);
            self.close(start, end, out);
        }
    }

    /// Frame index where the open region starts, if one is open.
    pub fn open_start(&self) -> Option<usize> {
        self.start
    }

    fn close(&mut self, start: usize, end: usize, out: &mut Vec<FrameRegion>) {
        if end > start && end - start >= self.min_speech {
            out.push(FrameRegion { start, end });
        }
        self.start = None;
        self.silence_from = None;
        self.probs.clear();
    }

    /// Split an over-long region at its least speech-like frame in the second half (or
    /// the split window), so a monologue is cut where a breath is most likely rather than
    /// mid-word.
    fn split(&mut self, start: usize, out: &mut Vec<FrameRegion>) {
        let n = self.probs.len();
        let half = (n / 2).max(n.saturating_sub(self.split_window));
        let (rel, _) =
            self.probs[half..]
                .iter()
                .enumerate()
                .fold(
                    (0, f32::MAX),
                    |best, (i, &p)| if p < best.1 { (i, p) } else { best },
                );
        let cut = (half + rel).max(1);
        out.push(FrameRegion {
            start,
            end: start + cut,
        });
        self.probs.drain(..cut);
        self.start = Some(start + cut);
        self.silence_from = None;
    }
}

/// A span of samples (absolute sample indices, `end` exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleSpan {
    pub start: u64,
    pub end: u64,
}

/// Groups speech spans into chunks for whisper.
pub struct Chunker {
    max_len: u64,
    max_gap: u64,
    current: Vec<SampleSpan>,
    /// End of the last chunk closed early: a later span's padding must not reach back
    /// into it (that audio was already transcribed).
    closed_end: u64,
}

impl Chunker {
    pub fn new(opts: &SegmentOptions) -> Self {
        Self {
            max_len: (opts.max_chunk_s * SR) as u64,
            max_gap: (opts.max_gap_s * SR) as u64,
            current: Vec::new(),
            closed_end: 0,
        }
    }

    /// Add a speech span (sorted, non-decreasing starts). Returns the finished chunk's
    /// spans when this span cannot join the current chunk.
    pub fn push(&mut self, span: SampleSpan) -> Option<Vec<SampleSpan>> {
        let mut span = span;
        span.start = span.start.max(self.closed_end);
        if span.end <= span.start {
            return None;
        }
        if let (Some(first), Some(last)) = (self.current.first().copied(), self.current.last_mut())
        {
            // Padding can make neighbours overlap: merge them.
            if span.start <= last.end {
                let merged_end = last.end.max(span.end);
                if merged_end - first.start <= self.max_len {
                    last.end = merged_end;
                    return None;
                }
                span.start = last.end;
            }
        }
        let fits = match (self.current.first(), self.current.last()) {
            (Some(first), Some(last)) => {
                span.end - first.start <= self.max_len && span.start - last.end <= self.max_gap
            }
            _ => true,
        };
        if fits {
            self.current.push(span);
            None
        } else {
            let done = std::mem::replace(&mut self.current, vec![span]);
            Some(done)
        }
    }

    pub fn finish(&mut self) -> Option<Vec<SampleSpan>> {
        (!self.current.is_empty()).then(|| std::mem::take(&mut self.current))
    }

    /// Close the open chunk early when no later span can join it: the next span cannot
    /// start before `earliest_next`, and that is already a long pause away; or it cannot
    /// end before `now`, and that is already past the chunk's length limit. This is what
    /// keeps silence from being buffered and gives live mode its low latency (without the
    /// second rule a full chunk waited for the end of the next utterance).
    pub fn close_if_stale(&mut self, earliest_next: u64, now: u64) -> Option<Vec<SampleSpan>> {
        let first = self.current.first()?;
        let last = self.current.last()?;
        let too_far = earliest_next > last.end + self.max_gap;
        let cannot_fit = now > first.start + self.max_len;
        if !(too_far || cannot_fit) {
            return None;
        }
        self.close_now()
    }

    /// Close the open chunk now, whatever comes next.
    pub fn close_now(&mut self) -> Option<Vec<SampleSpan>> {
        self.closed_end = self.current.last()?.end;
        Some(std::mem::take(&mut self.current))
    }

    /// First sample the open chunk still needs.
    pub fn open_start(&self) -> Option<u64> {
        self.current.first().map(|s| s.start)
    }
}

/// A piece of audio for whisper: the samples of a chunk and where its speech is.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// Position in the stream, from 0; the collector restores this order.
    pub id: usize,
    /// Start of `samples` in seconds from the start of the recording.
    pub start: f64,
    pub samples: Vec<f32>,
    /// Speech regions inside the chunk, in absolute seconds.
    pub speech: Vec<(f64, f64)>,
    /// What each VAD call since the previous chunk returned, in call order: a resumed run
    /// hands these back instead of running the model again over audio it has done.
    pub vad_calls: Vec<Vec<f32>>,
}

impl Chunk {
    pub fn end(&self) -> f64 {
        self.start + self.samples.len() as f64 / SR
    }

    /// The stretch `[from, to]` (absolute seconds) as a chunk of its own: its audio and the
    /// speech inside it, under the same id.
    pub fn part(&self, from: f64, to: f64) -> Chunk {
        let (a, b) = (self.sample_at(from), self.sample_at(to));
        Chunk {
            id: self.id,
            start: self.start + a as f64 / SR,
            samples: self.samples[a..b].to_vec(),
            speech: self
                .speech
                .iter()
                .map(|&(s, e)| (s.max(from), e.min(to)))
                .filter(|(s, e)| e > s)
                .collect(),
            vad_calls: Vec::new(),
        }
    }

    /// Index into `samples` of the absolute time `t` (seconds), kept inside the chunk.
    pub fn sample_at(&self, t: f64) -> usize {
        (((t - self.start) * SR).round().max(0.0) as usize).min(self.samples.len())
    }
}

/// VAD + chunking over a 16 kHz stream, holding only the audio it still needs.
pub struct Segmenter {
    vad: Box<dyn SpeechProbability>,
    opts: SegmentOptions,
    detector: RegionDetector,
    chunker: Chunker,
    /// `audio[0]` is absolute sample `audio_offset`.
    audio: Vec<f32>,
    audio_offset: u64,
    /// Absolute sample up to which VAD has run (a multiple of the frame size).
    vad_pos: u64,
    next_id: usize,
    regions: Vec<FrameRegion>,
    pad: u64,
    /// VAD outputs not yet handed to a chunk (see `Chunk::vad_calls`).
    vad_calls: Vec<Vec<f32>>,
}

impl Segmenter {
    pub fn new(vad: Box<dyn SpeechProbability>, opts: SegmentOptions) -> Self {
        Self {
            detector: RegionDetector::new(&opts),
            chunker: Chunker::new(&opts),
            pad: (opts.pad_s * SR) as u64,
            vad,
            opts,
            audio: Vec::new(),
            audio_offset: 0,
            vad_pos: 0,
            next_id: 0,
            regions: Vec::new(),
            vad_calls: Vec::new(),
        }
    }

    /// Total samples pushed so far.
    pub fn samples_seen(&self) -> u64 {
        self.audio_offset + self.audio.len() as u64
    }

    /// Add 16 kHz samples; finished chunks are appended to `out`.
    pub fn push(&mut self, samples: &[f32], out: &mut Vec<Chunk>) -> Result<()> {
        self.audio.extend_from_slice(samples);
        let block = (self.opts.vad_block_frames * FRAME_SAMPLES) as u64;
        while self.samples_seen() - self.vad_pos >= block {
            self.run_vad(block, out)?;
        }
        Ok(())
    }

    /// End of stream: run VAD on the tail and flush every pending chunk.
    pub fn finish(&mut self, out: &mut Vec<Chunk>) -> Result<()> {
        let rest = self.samples_seen() - self.vad_pos;
        if rest > 0 {
            self.run_vad(rest, out)?;
        }
        self.detector.finish(&mut self.regions);
        self.drain_regions(out, true);
        if let Some(spans) = self.chunker.finish() {
            self.emit(spans, out);
        }
        Ok(())
    }

    fn run_vad(&mut self, len: u64, out: &mut Vec<Chunk>) -> Result<()> {
        let context =
            ((VAD_CONTEXT_FRAMES * FRAME_SAMPLES) as u64).min(self.vad_pos - self.audio_offset);
        let from = (self.vad_pos - context - self.audio_offset) as usize;
        let to = (self.vad_pos + len - self.audio_offset) as usize;
        let probs = self.vad.frame_probabilities(&self.audio[from..to])?;
        let skip = (context as usize) / FRAME_SAMPLES;
        self.detector
            .push(&probs[skip.min(probs.len())..], &mut self.regions);
        self.vad_calls.push(probs);
        // A partial last frame only happens at the end of the stream.
        self.vad_pos += len.div_ceil(FRAME_SAMPLES as u64) * FRAME_SAMPLES as u64;
        self.drain_regions(out, false);
        self.trim_audio();
        Ok(())
    }

    /// Hand finished regions to the chunker once the VAD has seen their trailing pad
    /// (a region cut at a dip ends right at the newest audio). Waiting for the VAD, not for
    /// whatever the reader has buffered, keeps chunks independent of how samples arrive,
    /// so live runs are repeatable. `finishing`: the stream ended, take what there is.
    fn drain_regions(&mut self, out: &mut Vec<Chunk>, finishing: bool) {
        let seen = if finishing {
            self.samples_seen()
        } else {
            self.samples_seen().min(self.vad_pos)
        };
        let ready = self
            .regions
            .iter()
            .take_while(|r| finishing || (r.end * FRAME_SAMPLES) as u64 + self.pad <= seen)
            .count();
        for r in self.regions.drain(..ready).collect::<Vec<_>>() {
            let start = ((r.start * FRAME_SAMPLES) as u64).saturating_sub(self.pad);
            let end = ((r.end * FRAME_SAMPLES) as u64 + self.pad).min(seen);
            if let Some(spans) = self.chunker.push(SampleSpan { start, end }) {
                self.emit(spans, out);
            }
            if self.opts.close_each_region {
                if let Some(spans) = self.chunker.close_now() {
                    self.emit(spans, out);
                }
            }
        }
        if !self.regions.is_empty() {
            return; // a waiting region may still join the open chunk
        }
        let earliest_next = match self.detector.open_start() {
            Some(frame) => (frame * FRAME_SAMPLES) as u64,
            None => self.vad_pos,
        }
        .saturating_sub(self.pad);
        // An open region ends no earlier than where its silence may have begun.
        let earliest_end = self
            .vad_pos
            .saturating_sub((self.opts.min_silence_s * SR) as u64);
        if let Some(spans) = self.chunker.close_if_stale(earliest_next, earliest_end) {
            self.emit(spans, out);
        }
    }

    fn emit(&mut self, spans: Vec<SampleSpan>, out: &mut Vec<Chunk>) {
        let start = spans[0].start.max(self.audio_offset);
        let end = spans.last().unwrap().end.min(self.samples_seen());
        let samples = self.audio
            [(start - self.audio_offset) as usize..(end - self.audio_offset) as usize]
            .to_vec();
        out.push(Chunk {
            id: self.next_id,
            start: start as f64 / SR,
            samples,
            speech: spans
                .iter()
                .map(|s| (s.start as f64 / SR, s.end as f64 / SR))
                .collect(),
            vad_calls: std::mem::take(&mut self.vad_calls),
        });
        self.next_id += 1;
    }

    /// Drop audio nobody can need any more: before the open chunk, the open region's
    /// padded start, and the VAD context.
    fn trim_audio(&mut self) {
        let context = (VAD_CONTEXT_FRAMES * FRAME_SAMPLES) as u64;
        let mut keep_from = self.vad_pos.saturating_sub(context.max(self.pad));
        if let Some(s) = self.chunker.open_start() {
            keep_from = keep_from.min(s);
        }
        if let Some(f) = self.detector.open_start() {
            keep_from = keep_from.min(((f * FRAME_SAMPLES) as u64).saturating_sub(self.pad));
        }
        if let Some(r) = self.regions.first() {
            keep_from = keep_from.min(((r.start * FRAME_SAMPLES) as u64).saturating_sub(self.pad));
        }
        if keep_from > self.audio_offset {
            let n = (keep_from - self.audio_offset) as usize;
            self.audio.drain(..n);
            self.audio_offset = keep_from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vad::EnergyVad;

    fn detect(probs: &[f32], opts: &SegmentOptions) -> Vec<FrameRegion> {
        let mut d = RegionDetector::new(opts);
        let mut out = Vec::new();
        // Feed in uneven pieces: results must not depend on how the stream is cut.
        for piece in probs.chunks(7) {
            d.push(piece, &mut out);
        }
        d.finish(&mut out);
        out
    }

    fn opts() -> SegmentOptions {
        SegmentOptions::default()
    }

    #[test]
    fn hysteresis_keeps_dips_above_offset_inside_speech() {
        let mut p = vec![0.0; 10];
        p.extend(vec![0.9; 20]);
        p.extend(vec![0.4; 20]); // below onset, above offset: still speech
        p.extend(vec![0.9; 20]);
        p.extend(vec![0.0; 20]);
        assert_eq!(
            detect(&p, &opts()),
            vec![FrameRegion { start: 10, end: 70 }]
        );
    }

    #[test]
    fn short_pause_does_not_split_long_pause_does() {
        let silence = frames_for(0.3);
        let mut p = vec![0.9; 30];
        p.extend(vec![0.0; silence - 1]);
        p.extend(vec![0.9; 30]);
        p.extend(vec![0.0; silence + 2]);
        p.extend(vec![0.9; 30]);
        let r = detect(&p, &opts());
        assert_eq!(r.len(), 2, "{r:?}");
        assert_eq!(
            r[0],
            FrameRegion {
                start: 0,
                end: 30 + silence - 1 + 30
            }
        );
        assert_eq!(r[1].start, 30 + silence - 1 + 30 + silence + 2);
    }

    #[test]
    fn clicks_shorter_than_min_speech_are_dropped() {
        let mut p = vec![0.0; 20];
        p.extend(vec![0.9; 3]);
        p.extend(vec![0.0; 40]);
        assert!(detect(&p, &opts()).is_empty());
    }

    #[test]
    fn monologue_is_split_at_the_least_speechy_frame() {
        let o = opts();
        let max = RegionDetector::new(&o).max_frames;
        let mut p = vec![0.9; max + 50];
        let dip = max * 3 / 4;
        p[dip] = 0.36; // above offset, so no pause, but the best place to cut
        let r = detect(&p, &o);
        assert_eq!(r[0], FrameRegion { start: 0, end: dip });
        assert_eq!(r[1].start, dip);
        assert!(r.iter().all(|r| r.end - r.start <= max));
        // With a 1 s split window the cut stays within the last second.
        let live = SegmentOptions {
            split_window_s: Some(1.0),
            ..o
        };
        let r = detect(&p, &live);
        assert!(r[0].end >= max - frames_for(1.0), "{r:?}");
    }

    #[test]
    fn a_long_region_ends_at_its_first_dip_when_asked() {
        // 5 s of speech, a 2-frame dip (the first frame above `offset`), 1 s more: one
        // region normally (the dip is shorter than the minimum pause); two when dips end
        // regions longer than 4 s.
        let mut p = vec![0.9; frames_for(5.0)];
        p.extend([0.45, 0.1]);
        p.extend(vec![0.9; frames_for(1.0)]);
        p.extend(vec![0.0; 20]);
        assert_eq!(detect(&p, &opts()).len(), 1);
        let eager = SegmentOptions {
            split_at_dip_after_s: Some(4.0),
            ..opts()
        };
        let r = detect(&p, &eager);
        assert_eq!(r.len(), 2, "{r:?}");
        assert_eq!(r[0].end, frames_for(5.0));
        assert_eq!(r[1].start, frames_for(5.0) + 2);
        // A dip early in a region does not split it.
        let mut q = vec![0.9; frames_for(2.0)];
        q.extend([0.1, 0.1]);
        q.extend(vec![0.9; frames_for(1.0)]);
        assert_eq!(detect(&q, &eager).len(), 1);
    }

    #[test]
    fn chunker_merges_up_to_max_len_and_splits_at_long_gaps() {
        let o = opts();
        let s = |a: f64, b: f64| SampleSpan {
            start: (a * SR) as u64,
            end: (b * SR) as u64,
        };
        let mut c = Chunker::new(&o);
        assert!(c.push(s(0.0, 10.0)).is_none());
        assert!(c.push(s(11.0, 20.0)).is_none());
        // Would make the chunk 31 s long.
        let done = c.push(s(21.0, 31.0)).unwrap();
        assert_eq!(done, vec![s(0.0, 10.0), s(11.0, 20.0)]);
        // A 5 s pause (> 3 s) starts a new chunk.
        let done = c.push(s(36.0, 40.0)).unwrap();
        assert_eq!(done, vec![s(21.0, 31.0)]);
        // Overlapping padded neighbours merge.
        assert!(c.push(s(39.9, 42.0)).is_none());
        assert_eq!(c.finish().unwrap(), vec![s(36.0, 42.0)]);
    }

    #[test]
    fn a_full_chunk_closes_without_waiting_for_the_next_utterance() {
        let o = opts();
        let s = |a: f64, b: f64| SampleSpan {
            start: (a * SR) as u64,
            end: (b * SR) as u64,
        };
        let at = |t: f64| (t * SR) as u64;
        let mut c = Chunker::new(&o);
        assert!(c.push(s(0.0, 12.0)).is_none());
        assert!(c.push(s(12.5, 28.0)).is_none());
        // Someone is still talking from 28.3 s; at 29 s the chunk can still take them...
        assert!(c.close_if_stale(at(28.1), at(29.0)).is_none());
        // ...at 30.5 s it cannot (the chunk would pass 30 s): close it now.
        let done = c.close_if_stale(at(28.1), at(30.5)).unwrap();
        assert_eq!(done, vec![s(0.0, 12.0), s(12.5, 28.0)]);
        // The next span's padding does not reach back into the closed chunk.
        assert!(c.push(s(27.9, 33.0)).is_none());
        assert_eq!(c.finish().unwrap(), vec![s(28.0, 33.0)]);
    }

    fn tone(seconds: f64) -> Vec<f32> {
        (0..(seconds * SR) as usize)
            .map(|i| (i as f32 * 0.05).sin() * 0.3)
            .collect()
    }

    #[test]
    fn segmenter_finds_bursts_with_exact_times_and_bounded_buffer() {
        // 3 s silence, 2 s tone, 5 s silence, 4 s tone, 1 s silence.
        let mut audio = vec![0.0; (3.0 * SR) as usize];
        audio.extend(tone(2.0));
        audio.extend(vec![0.0; (5.0 * SR) as usize]);
        audio.extend(tone(4.0));
        audio.extend(vec![0.0; (1.0 * SR) as usize]);
        let o = SegmentOptions {
            vad_block_frames: 20,
            ..opts()
        };
        let mut seg = Segmenter::new(Box::new(EnergyVad { threshold: 0.01 }), o);
        let mut chunks = Vec::new();
        let mut max_buffer = 0;
        for piece in audio.chunks(1000) {
            seg.push(piece, &mut chunks).unwrap();
            max_buffer = max_buffer.max(seg.audio.len());
        }
        seg.finish(&mut chunks).unwrap();
        assert_eq!(chunks.len(), 2, "a 5 s pause separates chunks");
        let frame = FRAME_SAMPLES as f64 / SR;
        assert!(
            (chunks[0].start - 2.8).abs() <= frame,
            "{}",
            chunks[0].start
        );
        assert!(
            (chunks[0].end() - 5.2).abs() <= 2.0 * frame,
            "{}",
            chunks[0].end()
        );
        assert!(
            (chunks[1].start - 9.8).abs() <= frame,
            "{}",
            chunks[1].start
        );
        assert!((chunks[1].end() - 14.2).abs() <= 2.0 * frame);
        assert_eq!(chunks[0].id, 0);
        assert_eq!(chunks[1].id, 1);
        // The buffer holds at most the open chunk (4.4 s) plus the pause that closes it
        // (3 s) - never both bursts and the silence between them (11.4 s).
        assert!(
            max_buffer < (8.0 * SR) as usize,
            "buffer grew to {max_buffer}"
        );
    }

    #[test]
    fn live_chunks_leave_as_soon_as_their_region_ends() {
        // 1 s tone, 1 s pause, 1 s tone: one chunk normally (the pause is short), two when
        // each region is closed at once - the first before the second tone arrives.
        let mut audio = tone(1.0);
        audio.extend(vec![0.0; (1.0 * SR) as usize]);
        let second_tone_at = audio.len();
        audio.extend(tone(1.0));
        audio.extend(vec![0.0; (1.0 * SR) as usize]);
        let run = |close_each_region: bool| {
            let o = SegmentOptions {
                vad_block_frames: 4,
                close_each_region,
                ..opts()
            };
            let mut seg = Segmenter::new(Box::new(EnergyVad { threshold: 0.01 }), o);
            let mut chunks = Vec::new();
            seg.push(&audio[..second_tone_at], &mut chunks).unwrap();
            let before_second = chunks.len();
            seg.push(&audio[second_tone_at..], &mut chunks).unwrap();
            seg.finish(&mut chunks).unwrap();
            (before_second, chunks)
        };
        let (early, chunks) = run(false);
        assert_eq!((early, chunks.len()), (0, 1));
        let (early, chunks) = run(true);
        assert_eq!((early, chunks.len()), (1, 2));
        assert!(chunks[0].end() <= chunks[1].start, "no audio in two chunks");
    }

    #[test]
    fn silence_only_gives_no_chunks() {
        let mut seg = Segmenter::new(Box::new(EnergyVad { threshold: 0.01 }), opts());
        let mut chunks = Vec::new();
        seg.push(&vec![0.0; (40.0 * SR) as usize], &mut chunks)
            .unwrap();
        seg.finish(&mut chunks).unwrap();
        assert!(chunks.is_empty());
    }

    #[test]
    fn sample_at_maps_absolute_seconds_into_the_chunk_and_clamps() {
        let chunk = Chunk {
            id: 0,
            start: 10.0,
            samples: vec![0.0; 16_000],
            speech: vec![],
            vad_calls: vec![],
        };
        assert_eq!(chunk.sample_at(10.5), 8_000);
        assert_eq!(chunk.sample_at(9.0), 0);
        assert_eq!(chunk.sample_at(12.0), 16_000);
    }
}
