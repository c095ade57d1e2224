//! pyannote segmentation-3.0 on a recording: speech and overlapped-speech regions, compared
//! with an RTTM reference when one is given, and timings.
//!
//! cargo run --release --example segmentation -- samples/pyannote-sample.wav \
//!     samples/pyannote-sample.rttm [--step 5] [--model PATH] [--dump FILE]
//!
//! `--dump FILE` writes the raw log-probabilities (f32 little-endian, [4][589][7]) of the
//! windows starting at 0, 5, 10 and 15 s (zero-padded), for comparing with another
//! implementation.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use spacescribe::diarize::segmentation::{
    count_regions, overlap_regions, Segmentation, MODEL_FILE, WINDOW_SAMPLES,
};

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let mut positional = Vec::new();
    let mut model = spacescribe::models::models_dir().join(MODEL_FILE);
    let mut step = 5.0;
    let mut dump = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--model" => model = PathBuf::from(args.next().context("--model PATH")?),
            "--step" => step = args.next().context("--step S")?.parse()?,
            "--dump" => dump = Some(PathBuf::from(args.next().context("--dump FILE")?)),
            _ => positional.push(PathBuf::from(a)),
        }
    }
    let Some(audio_path) = positional.first() else {
        bail!("usage: segmentation AUDIO [RTTM] [--step S] [--model PATH] [--dump FILE]");
    };
    let audio = spacescribe::source::clip::read_clip_16k(audio_path)?;
    let secs = audio.len() as f64 / 16000.0;

    let t0 = Instant::now();
    let seg = Segmentation::load(&model)?;
    println!("model loaded in {:.3} s", t0.elapsed().as_secs_f64());

    if let Some(path) = dump {
        let windows: Vec<Vec<f32>> = [0, 80_000, 160_000, 240_000]
            .iter()
            .map(|&s: &usize| {
                let mut w =
                    audio[s.min(audio.len())..(s + WINDOW_SAMPLES).min(audio.len())].to_vec();
                w.resize(WINDOW_SAMPLES, 0.0);
                w
            })
            .collect();
        let refs: Vec<&[f32]> = windows.iter().map(Vec::as_slice).collect();
        let out = seg.forward(&refs)?;
        let bytes: Vec<u8> = out
            .iter()
            .flatten()
            .flatten()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        std::fs::write(&path, bytes)?;
        println!("wrote {}", path.display());
    }

    // Per-window cost: one batch of 8 windows.
    let windows: Vec<&[f32]> = (0..8)
        .map(|i| {
            let s = (i * 16_000 * 3) % audio.len().saturating_sub(WINDOW_SAMPLES).max(1);
            &audio[s..(s + WINDOW_SAMPLES).min(audio.len())]
        })
        .filter(|w| w.len() == WINDOW_SAMPLES)
        .collect();
    // Timings: the first call (cold allocations) and the best of three after it.
    let best_of = |f: &mut dyn FnMut() -> Result<()>| -> Result<(f64, f64)> {
        let mut times = Vec::new();
        for _ in 0..4 {
            let t = Instant::now();
            f()?;
            times.push(t.elapsed().as_secs_f64());
        }
        let best = times[1..].iter().cloned().fold(f64::INFINITY, f64::min);
        Ok((times[0], best))
    };
    if !windows.is_empty() {
        let (first, best) = best_of(&mut || seg.forward(&windows).map(|_| ()))?;
        let per = |s: f64| 1000.0 * s / windows.len() as f64;
        println!(
            "forward, batch of {}: first {first:.3} s, best {best:.3} s: {:.1} ms per 10 s \
             window (first call {:.1} ms)",
            windows.len(),
            per(best),
            per(first)
        );
    }

    let (first, best) = best_of(&mut || seg.speaker_count(&audio, step).map(|_| ()))?;
    println!(
        "speaker_count of {secs:.1} s, step {step} s: first {first:.3} s, best {best:.3} s \
         ({:.0}x real time)",
        secs / best
    );
    let (counts, frame) = seg.speaker_count(&audio, step)?;

    let speech = count_regions(&counts, 1, frame, 0.0);
    let overlaps = overlap_regions(&counts, frame, 0.0);
    let fmt = |r: &[(f64, f64)]| {
        r.iter()
            .map(|(a, b)| format!("{a:.2}-{b:.2}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!("speech ({}): {}", speech.len(), fmt(&speech));
    println!("overlap ({}): {}", overlaps.len(), fmt(&overlaps));

    let Some(rttm) = positional.get(1) else {
        return Ok(());
    };
    // Reference count per frame: distinct speakers whose RTTM pieces cover its middle.
    let mut pieces = Vec::new();
    for line in std::fs::read_to_string(rttm)?.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() >= 8 && f[0] == "SPEAKER" {
            let start: f64 = f[3].parse()?;
            let dur: f64 = f[4].parse()?;
            pieces.push((start, start + dur, f[7].to_string()));
        }
    }
    let reference: Vec<u8> = (0..counts.len())
        .map(|j| {
            let t = (j as f64 + 0.5) * frame;
            let mut who: Vec<&str> = pieces
                .iter()
                .filter(|(a, b, _)| *a <= t && t < *b)
                .map(|(_, _, s)| s.as_str())
                .collect();
            who.sort();
            who.dedup();
            who.len().min(255) as u8
        })
        .collect();
    let ref_overlaps = overlap_regions(&reference, frame, 0.0);
    println!(
        "reference overlap ({}): {}",
        ref_overlaps.len(),
        fmt(&ref_overlaps)
    );

    let n = counts.len() as f64;
    let agree = counts
        .iter()
        .zip(&reference)
        .filter(|(c, r)| (**c > 0) == (**r > 0))
        .count() as f64;
    let pr = |pred: &dyn Fn(u8) -> bool, label: &str| {
        let tp = counts
            .iter()
            .zip(&reference)
            .filter(|(c, r)| pred(**c) && pred(**r))
            .count() as f64;
        let p = counts.iter().filter(|c| pred(**c)).count() as f64;
        let r = reference.iter().filter(|r| pred(**r)).count() as f64;
        println!(
            "{label} frames: precision {:.3} ({tp}/{p}), recall {:.3} ({tp}/{r})",
            tp / p.max(1.0),
            tp / r.max(1.0)
        );
    };
    println!(
        "speech agreement (count>0 vs reference): {:.2} %",
        100.0 * agree / n
    );
    pr(&|c| c > 0, "speech");
    pr(&|c| c >= 2, "overlap");
    let exact = counts
        .iter()
        .zip(&reference)
        .filter(|(c, r)| c == r)
        .count() as f64;
    println!("count exactly right: {:.2} %", 100.0 * exact / n);
    // Region level, 0.25 s tolerance either side.
    let near = |a: &(f64, f64), list: &[(f64, f64)]| {
        list.iter().any(|b| a.0 < b.1 + 0.25 && b.0 < a.1 + 0.25)
    };
    let found = ref_overlaps.iter().filter(|r| near(r, &overlaps)).count();
    let real = overlaps.iter().filter(|r| near(r, &ref_overlaps)).count();
    println!(
        "overlap regions (0.25 s tolerance): {found}/{} reference found, {real}/{} detected are real",
        ref_overlaps.len(),
        overlaps.len()
    );
    Ok(())
}
