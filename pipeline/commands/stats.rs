//! `spacescribe stats FILE.rttm`: the statistics of any diarization, with the same
//! definitions (and the same code) as a transcription's stats.json. Scoring scripts use it
//! to count turns, interruptions and backchannels in a reference.

use std::io::Write;

use anyhow::{Context, Result};

use crate::cli::StatsArgs;
use crate::report::rttm::read_rttm;
use crate::report::stats_files::{write_stats_csv, write_stats_json};
use crate::stats::compute_stats;

pub fn run(args: &StatsArgs) -> Result<usize> {
    let text = std::fs::read_to_string(&args.rttm)
        .with_context(|| format!("cannot read {}", args.rttm.display()))?;
    let mut transcript =
        read_rttm(&text).with_context(|| format!("{} is not RTTM", args.rttm.display()))?;
    if let Some(d) = args.duration {
        transcript.duration = transcript.duration.max(d);
    }
    let stats = compute_stats(&transcript);
    let mut out = std::io::stdout().lock();
    if args.csv {
        write_stats_csv(&mut out, &stats)?;
    } else {
        write_stats_json(&mut out, &stats)?;
    }
    out.flush()?;
    Ok(0)
}
