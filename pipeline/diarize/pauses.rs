//! Pauses the speaker models talk through: stretches of a chunk's audio at the level of
//! the quiet around them.
//!
//! Why: the segmentation model was trained on human annotations, which join short pauses
//! into the speech around them, so it hears the speaker before a 0.2-0.6 s gap at a turn
//! change go on through it (on `rapid`, 11 of 73 gaps between speakers were filled that
//! way, mostly by the host). Frames in such a stretch are silence in the turns; a pause
//! inside one person's speech is joined again by the turns' own rule (`MIN_PAUSE_S` in
//! `turns`), so only the gaps at turn changes and the edges of turns move. Measured on the
//! samples with tiny.en (`scripts/eval`, README "Accuracy").

use super::chunk_speakers::active_runs;

/// Energy frames of 10 ms at 16 kHz.
const FRAME_SAMPLES: usize = 160;
const FRAME_S: f64 = 0.01;
/// The quiet around a frame is judged over this many frames on each side (1 s): long enough
/// to hold a pause, short enough to follow a music bed or a caller's line noise.
const NEIGHBOURHOOD_FRAMES: usize = 100;
/// The quiet level of a neighbourhood: this percentile of its frame levels.
const FLOOR_PERCENTILE: f64 = 0.10;
/// A frame within this many dB of its neighbourhood's quiet level is quiet...
const RISE_DB: f32 = 5.0;
/// ...and only when it is also this far under the neighbourhood's speech level (its 90th
/// percentile): where a quieter voice follows a louder one with little silence around,
/// the quietest tenth is that voice, not a pause (gaps at turn changes on the samples lie
/// 15-20 dB under the speech; this changes none of them).
const SPEECH_PERCENTILE: f64 = 0.90;
const BELOW_SPEECH_DB: f32 = 12.0;
/// Quiet shorter than this is a stop consonant or the dip between two words, not a pause.
const MIN_PAUSE_S: f64 = 0.15;
/// Level of digital silence (log of zero).
const SILENT_DB: f32 = -100.0;

/// Pauses in `samples` (16 kHz, the first at `start_s` seconds) as absolute (start, end)
/// seconds, in order: runs of at least `MIN_PAUSE_S` of 10 ms frames whose level is within
/// `RISE_DB` of the quietest tenth of the two seconds around them and `BELOW_SPEECH_DB`
/// under their loudest tenth.
pub fn quiet_stretches(samples: &[f32], start_s: f64) -> Vec<(f64, f64)> {
    let levels: Vec<f32> = samples
        .chunks_exact(FRAME_SAMPLES)
        .map(|f| {
            let power = f.iter().map(|x| x * x).sum::<f32>() / FRAME_SAMPLES as f32;
            (10.0 * power.log10()).max(SILENT_DB)
        })
        .collect();
    let mut neighbourhood = Vec::with_capacity(2 * NEIGHBOURHOOD_FRAMES);
    let quiet: Vec<bool> = (0..levels.len())
        .map(|i| {
            neighbourhood.clear();
            neighbourhood.extend_from_slice(
                &levels[i.saturating_sub(NEIGHBOURHOOD_FRAMES)
                    ..(i + NEIGHBOURHOOD_FRAMES).min(levels.len())],
            );
            let mut percentile = |p: f64| {
                let k = ((neighbourhood.len() - 1) as f64 * p).round() as usize;
                *neighbourhood.select_nth_unstable_by(k, f32::total_cmp).1
            };
            let (floor, speech) = (percentile(FLOOR_PERCENTILE), percentile(SPEECH_PERCENTILE));
            levels[i] < floor + RISE_DB && levels[i] < speech - BELOW_SPEECH_DB
        })
        .collect();
    let min_frames = (MIN_PAUSE_S / FRAME_S).round() as usize;
    // Gaps of under one frame bridged: runs of consecutive quiet frames.
    active_runs(&quiet, 1)
        .into_iter()
        .filter(|&(first, end)| end - first >= min_frames)
        .map(|(first, end)| {
            (
                start_s + first as f64 * FRAME_S,
                start_s + end as f64 * FRAME_S,
            )
        })
        .collect()
}

/// `regions` (sorted, not overlapping) with the parts inside `pauses` taken out. Pauses
/// come chunk by chunk, and neighbouring chunks' padding can overlap, so they are sorted
/// and joined here first.
pub fn without_pauses(regions: &[(f64, f64)], pauses: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut sorted = pauses.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut pauses: Vec<(f64, f64)> = Vec::with_capacity(sorted.len());
    for p in sorted {
        match pauses.last_mut() {
            Some(last) if p.0 <= last.1 => last.1 = last.1.max(p.1),
            _ => pauses.push(p),
        }
    }
    let mut out = Vec::with_capacity(regions.len());
    let mut p = 0;
    for &(start, end) in regions {
        let mut from = start;
        while p < pauses.len() && pauses[p].1 <= from {
            p += 1;
        }
        let mut q = p;
        while q < pauses.len() && pauses[q].0 < end {
            if pauses[q].0 > from {
                out.push((from, pauses[q].0));
            }
            from = from.max(pauses[q].1);
            q += 1;
        }
        if from < end {
            out.push((from, end));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `secs` of a 200 Hz tone at `amplitude` over a faint 3.1 kHz hum (room noise).
    fn tone(secs: f64, amplitude: f32) -> Vec<f32> {
        let n = (secs * 16_000.0) as usize;
        (0..n)
            .map(|i| {
                let t = i as f32 / 16_000.0;
                amplitude * (2.0 * std::f32::consts::PI * 200.0 * t).sin()
                    + 0.001 * (2.0 * std::f32::consts::PI * 3_100.0 * t).sin()
            })
            .collect()
    }

    fn close(a: (f64, f64), b: (f64, f64)) -> bool {
        (a.0 - b.0).abs() < 0.021 && (a.1 - b.1).abs() < 0.021
    }

    #[test]
    fn a_gap_between_two_voices_is_a_pause_and_a_dip_is_not() {
        // speech 1 s, quiet 0.3 s, a voice 10 dB quieter for 1 s, a 0.08 s dip, speech
        // 1 s; at 10 s. The quieter voice is the quietest tenth of the second after the gap
        // but stays speech.
        let mut x = tone(1.0, 0.3);
        x.extend(tone(0.3, 0.0));
        x.extend(tone(1.0, 0.1));
        x.extend(tone(0.08, 0.0));
        x.extend(tone(1.0, 0.3));
        let pauses = quiet_stretches(&x, 10.0);
        assert_eq!(pauses.len(), 1, "{pauses:?}");
        assert!(close(pauses[0], (11.0, 11.3)), "{pauses:?}");
    }

    #[test]
    fn a_voice_over_a_music_bed_is_speech_and_the_bed_alone_a_pause() {
        // A 200 Hz bed at 0.05 for 3 s; a 330 Hz voice at 0.3 over it from 1 s to 2 s
        // (16 dB over the bed, as on `rapid`).
        let mut x = tone(3.0, 0.05);
        for (i, x) in x.iter_mut().enumerate().take(32_000).skip(16_000) {
            let t = i as f32 / 16_000.0;
            *x += 0.3 * (2.0 * std::f32::consts::PI * 330.0 * t).sin();
        }
        let pauses = quiet_stretches(&x, 0.0);
        // The bed's first and last frames have no speech within reach to be quiet
        // against; what matters is where the voice starts and stops.
        assert_eq!(pauses.len(), 2, "{pauses:?}");
        assert!((pauses[0].1 - 1.0).abs() < 0.021, "{pauses:?}");
        assert!((pauses[1].0 - 2.0).abs() < 0.021, "{pauses:?}");
    }

    #[test]
    fn pauses_are_cut_out_of_regions() {
        let regions = [(0.0, 2.0), (3.0, 5.0)];
        let pauses = [(0.5, 0.7), (1.9, 3.2), (4.0, 4.1), (6.0, 7.0)];
        assert_eq!(
            without_pauses(&regions, &pauses),
            vec![(0.0, 0.5), (0.7, 1.9), (3.2, 4.0), (4.1, 5.0)]
        );
        assert_eq!(without_pauses(&regions, &[]), regions.to_vec());
        assert_eq!(without_pauses(&[(1.0, 2.0)], &[(0.0, 3.0)]), vec![]);
        // Out of order and overlapping (two chunks' padding).
        assert_eq!(
            without_pauses(&[(0.0, 4.0)], &[(2.5, 3.0), (1.0, 2.0), (1.5, 2.2)]),
            vec![(0.0, 1.0), (2.2, 2.5), (3.0, 4.0)]
        );
    }
}
