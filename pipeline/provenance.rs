//! What made a run: the program, the input's bytes, the model files and every option that
//! changes the output. Kept in the run's JSON (`made_by`), it lets a re-run over an
//! archive skip what is already done, and it names the journal a resumed run may use.
//! Thread counts are left out on purpose: they change how fast, not what.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A file by its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileId {
    pub size: u64,
    pub sha256: String,
}

impl FileId {
    pub fn of(path: &Path) -> Result<Self> {
        let mut file =
            File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 1 << 20];
        let mut size = 0u64;
        loop {
            let n = match file.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
            };
            hasher.update(&buffer[..n]);
            size += n as u64;
        }
        let digest = hasher.finalize();
        Ok(FileId {
            size,
            sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
        })
    }
}

/// Everything a run's output depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub program: String,
    pub input: FileId,
    /// Model files by role (`whisper`, `vad`, `speaker`, `segmentation`).
    pub models: BTreeMap<String, FileId>,
    /// Options that change the output, by flag name.
    pub options: BTreeMap<String, String>,
}

impl Provenance {
    /// A short, stable name for this provenance (names a resume journal).
    pub fn fingerprint(&self) -> String {
        let json = serde_json::to_vec(self).expect("plain data serialises");
        let digest = Sha256::digest(&json);
        digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
    }
}

/// The parts of a provenance shared by every input of one command: program, models,
/// options. Model files are hashed once per command, not once per input.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub models: BTreeMap<String, FileId>,
    pub options: BTreeMap<String, String>,
}

impl RunSettings {
    pub fn new(models: &[(&str, &Path)], options: BTreeMap<String, String>) -> Result<Self> {
        let models = models
            .iter()
            .map(|(role, path)| Ok((role.to_string(), FileId::of(path)?)))
            .collect::<Result<_>>()?;
        Ok(Self { models, options })
    }

    pub fn for_input(&self, input: &Path) -> Result<Provenance> {
        Ok(Provenance {
            program: format!("spacescribe {}", crate::build_info::VERSION_LINE),
            input: FileId::of(input)?,
            models: self.models.clone(),
            options: self.options.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_known_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::fs::write(&a, b"abc").unwrap();
        let id = FileId::of(&a).unwrap();
        assert_eq!(id.size, 3);
        assert_eq!(
            id.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let b = dir.path().join("b");
        std::fs::write(&b, b"abc").unwrap();
        assert_eq!(FileId::of(&b).unwrap(), id, "a copy is the same input");
    }

    #[test]
    fn any_option_changes_the_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.wav");
        std::fs::write(&input, b"RIFF").unwrap();
        let options = |beam: &str| BTreeMap::from([("beam-size".to_string(), beam.to_string())]);
        let one = RunSettings::new(&[("whisper", &input)], options("1")).unwrap();
        let five = RunSettings::new(&[("whisper", &input)], options("5")).unwrap();
        let p1 = one.for_input(&input).unwrap();
        assert_eq!(
            p1.fingerprint(),
            one.for_input(&input).unwrap().fingerprint()
        );
        assert_ne!(
            p1.fingerprint(),
            five.for_input(&input).unwrap().fingerprint()
        );
    }
}
