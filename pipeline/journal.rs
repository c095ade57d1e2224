//! The resume journal: while a file is transcribed, every finished chunk (words, speech
//! regions, speaker windows, local speakers - all the final stages need) is appended to
//! `<stem>.journal` beside the outputs and forced to disk. After a crash, kill -9 or a
//! power cut, the same command reads it back and transcribes only the chunks it lacks;
//! the outputs are the same as an uninterrupted run's. A journal made by another model,
//! other options or another input is set aside (renamed), never mixed in.
//!
//! Format: JSON lines. The first line names what made the journal (a fingerprint of the
//! run's provenance); each further line is one chunk. A line cut short by a crash is
//! dropped, and the file is cut back to the last whole line before appending.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::pipeline::ChunkResult;

#[derive(Serialize, Deserialize)]
struct Header {
    spacescribe_journal: u32,
    fingerprint: String,
}

/// 2: local speakers carry their runs, each with its own voice embedding.
const VERSION: u32 = 2;

pub struct Journal {
    path: PathBuf,
    file: File,
}

/// What opening a journal found.
pub struct Opened {
    pub journal: Journal,
    /// Chunks an earlier run finished, by id.
    pub done: BTreeMap<usize, ChunkResult>,
    /// Where a journal of another run was moved to, if there was one.
    pub set_aside: Option<PathBuf>,
}

impl Journal {
    /// `<dir>/<stem>.journal`.
    pub fn path_for(dir: &Path, stem: &str) -> PathBuf {
        dir.join(format!("{stem}.journal"))
    }

    /// Open (or start) the journal at `path` for a run with this fingerprint.
    pub fn open(path: &Path, fingerprint: &str) -> Result<Opened> {
        let mut done = BTreeMap::new();
        let mut set_aside = None;
        let mut keep_bytes = 0u64;
        if let Ok(file) = File::open(path) {
            match read(file, fingerprint) {
                Some((chunks, good_bytes)) => {
                    done = chunks;
                    keep_bytes = good_bytes;
                }
                None => {
                    let aside = path.with_extension("journal.set-aside");
                    std::fs::rename(path, &aside)
                        .with_context(|| format!("cannot set aside {}", path.display()))?;
                    set_aside = Some(aside);
                }
            }
        }
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        let write = |file: &mut File| -> io::Result<()> {
            if keep_bytes == 0 {
                file.set_len(0)?;
                let header = Header {
                    spacescribe_journal: VERSION,
                    fingerprint: fingerprint.to_string(),
                };
                let mut line = serde_json::to_vec(&header)?;
                line.push(b'\n');
                file.write_all(&line)?;
                file.sync_data()?;
            } else {
                // Drop a torn last line, then append after the last whole one.
                file.set_len(keep_bytes)?;
                file.seek(SeekFrom::Start(keep_bytes))?;
            }
            Ok(())
        };
        write(&mut file).with_context(|| format!("cannot write {}", path.display()))?;
        file.seek(SeekFrom::End(0))?;
        Ok(Opened {
            journal: Journal {
                path: path.to_path_buf(),
                file,
            },
            done,
            set_aside,
        })
    }

    /// Append one finished chunk and force it to disk.
    pub fn append(&mut self, chunk: &ChunkResult) -> Result<()> {
        let mut line = serde_json::to_vec(chunk)?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|_| self.file.sync_data())
            .with_context(|| format!("cannot write {}", self.path.display()))
    }

    /// The run finished and its outputs are written: the journal has served.
    pub fn remove(self) -> Result<()> {
        drop(self.file);
        std::fs::remove_file(&self.path)
            .with_context(|| format!("cannot remove {}", self.path.display()))
    }
}

/// The chunks of a journal with this fingerprint and the length of its whole lines; None
/// when it belongs to another run (or is not a journal at all).
fn read(file: File, fingerprint: &str) -> Option<(BTreeMap<usize, ChunkResult>, u64)> {
    let mut lines = BufReader::new(file).split(b'\n');
    let header: Header = serde_json::from_slice(&lines.next()?.ok()?).ok()?;
    if header.spacescribe_journal != VERSION || header.fingerprint != fingerprint {
        return None;
    }
    let header_len = serde_json::to_vec(&header).ok()?.len() as u64 + 1;
    let mut good = header_len;
    let mut done = BTreeMap::new();
    for line in lines {
        let Ok(line) = line else { break };
        let Ok(chunk) = serde_json::from_slice::<ChunkResult>(&line) else {
            break;
        };
        good += line.len() as u64 + 1;
        done.insert(chunk.transcript.id, chunk);
    }
    Some((done, good))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diarize::SpeakerWindow;
    use crate::transcribe::ChunkTranscript;

    fn chunk(id: usize) -> ChunkResult {
        ChunkResult {
            transcript: ChunkTranscript {
                id,
                language: Some("en".into()),
                segments: vec![],
                rejected: 0,
            },
            end: id as f64 * 30.0 + 29.97,
            speech: vec![(id as f64 * 30.0 + 0.1, id as f64 * 30.0 + 12.345)],
            windows: vec![SpeakerWindow {
                start: 1.0,
                end: 2.5,
                embedding: vec![0.1, -0.333_333_34, 1e-7],
            }],
            locals: vec![],
            pauses: vec![(id as f64 * 30.0 + 3.25, id as f64 * 30.0 + 3.5)],
            vad_calls: vec![vec![0.25, 0.987_654_3], vec![]],
        }
    }

    #[test]
    fn chunks_survive_a_crash_and_a_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = Journal::path_for(dir.path(), "talk");
        let mut opened = Journal::open(&path, "abc").unwrap();
        assert!(opened.done.is_empty());
        opened.journal.append(&chunk(0)).unwrap();
        opened.journal.append(&chunk(1)).unwrap();
        drop(opened);
        // A crash in the middle of the next line.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"transcript\":{\"id\":2,").unwrap();
        drop(f);
        let mut opened = Journal::open(&path, "abc").unwrap();
        assert_eq!(opened.done.len(), 2);
        assert_eq!(opened.done[&1], chunk(1), "floats come back exactly");
        opened.journal.append(&chunk(2)).unwrap();
        drop(opened);
        let opened = Journal::open(&path, "abc").unwrap();
        assert_eq!(opened.done.keys().copied().collect::<Vec<_>>(), [0, 1, 2]);
        opened.journal.remove().unwrap();
        assert!(!path.exists());
    }

    /// Thousands of arbitrary floats come back bit for bit: serde_json's default float
    /// parser may be one ulp off, and an f32 read through an f64 can round twice; either
    /// makes a resumed two-hour run differ from an uninterrupted one.
    #[test]
    fn every_float_comes_back_bit_for_bit() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut record = chunk(7);
        record.windows[0].embedding = (0..20_000)
            .map(|_| f32::from_bits(next() as u32 & 0x3fff_ffff) - 1.0)
            .collect();
        record.speech = (0..5_000)
            .map(|_| {
                let start = (next() >> 11) as f64 / (1u64 << 53) as f64 * 7200.0;
                (start, start + (next() >> 11) as f64 / (1u64 << 53) as f64)
            })
            .collect();
        let line = serde_json::to_vec(&record).unwrap();
        let back: ChunkResult = serde_json::from_slice(&line).unwrap();
        let bits32 = |c: &ChunkResult| -> Vec<u32> {
            c.windows[0].embedding.iter().map(|x| x.to_bits()).collect()
        };
        let bits64 = |c: &ChunkResult| -> Vec<u64> {
            c.speech
                .iter()
                .flat_map(|(a, b)| [a.to_bits(), b.to_bits()])
                .collect()
        };
        assert!(bits32(&back) == bits32(&record), "an f32 changed");
        assert!(bits64(&back) == bits64(&record), "an f64 changed");
    }

    #[test]
    fn a_journal_of_another_run_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = Journal::path_for(dir.path(), "talk");
        let mut opened = Journal::open(&path, "model A").unwrap();
        opened.journal.append(&chunk(0)).unwrap();
        drop(opened);
        let opened = Journal::open(&path, "model B").unwrap();
        assert!(opened.done.is_empty());
        let aside = opened.set_aside.unwrap();
        assert!(
            aside.ends_with("talk.journal.set-aside"),
            "{}",
            aside.display()
        );
        assert!(aside.is_file());
    }
}
