// MERGE: temporary until the outputs branch lands.
use crate::transcript::Transcript;
use anyhow::Result;
use std::io::Write;
use std::path::{Path, PathBuf};
#[derive(Debug, Clone, Copy)]
pub enum Format {
    Txt,
    Json,
}
pub fn parse_formats(_s: &str) -> Result<Vec<Format>> {
    Ok(vec![Format::Txt, Format::Json])
}
pub fn write_outputs(
    dir: &Path,
    stem: &str,
    t: &Transcript,
    _f: &[Format],
) -> Result<Vec<PathBuf>> {
    let p = dir.join(format!("{stem}.txt"));
    let mut f = std::fs::File::create(&p)?;
    for s in &t.segments {
        writeln!(f, "[{}] {}", crate::timefmt::hms(s.start), s.text)?;
    }
    let p2 = dir.join(format!("{stem}.json"));
    std::fs::write(&p2, serde_json::to_string_pretty(t)?)?;
    Ok(vec![p, p2])
}
