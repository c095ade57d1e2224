//! Where model files live and how names map to them. Files are fetched or built by
//! `scripts/fetch-models` into the cache; any ggml file can also be given by path.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

/// Whisper models whose ggml files follow whisper.cpp's `ggml-<name>.bin` naming.
pub const KNOWN_WHISPER_MODELS: &[&str] = &[
    "tiny.en",
    "tiny",
    "base.en",
    "base",
    "small.en",
    "small",
    "medium.en",
    "medium",
    "large-v1",
    "large-v2",
    "large-v3",
    "large-v3-turbo",
];

/// The models `scripts/fetch-models` installs, by file name, with what they are for.
pub const INSTALLED_BY_SETUP: &[(&str, &str)] = &[
    ("ggml-tiny.en.bin", "whisper tiny.en (English, fastest)"),
    ("ggml-base.bin", "whisper base (multilingual)"),
    (
        "ggml-silero-vad.bin",
        "Silero VAD (voice activity detection)",
    ),
    (
        "campplus_cn_en_common.pt",
        "CAM++ speaker embeddings (diarization)",
    ),
    (
        "pyannote-segmentation-3.0.bin",
        "pyannote segmentation-3.0 (overlapping speech, quick exchanges)",
    ),
];

pub const VAD_FILE: &str = "ggml-silero-vad.bin";
pub const SPEAKER_MODEL_FILE: &str = "campplus_cn_en_common.pt";
pub const SEGMENTATION_MODEL_FILE: &str = "pyannote-segmentation-3.0.bin";
pub const DEFAULT_WHISPER_MODEL: &str = "base";

/// `$SPACESCRIBE_MODELS`, else `$XDG_CACHE_HOME/spacescribe/models`, else
/// `~/.cache/spacescribe/models`.
pub fn models_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SPACESCRIBE_MODELS") {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    cache.join("spacescribe").join("models")
}

/// A `--model` value: a known name (looked up in the models dir) or a path to a ggml file.
pub fn resolve_whisper_model(name_or_path: &str) -> Result<PathBuf> {
    let as_path = Path::new(name_or_path);
    let looks_like_path = name_or_path.contains(std::path::MAIN_SEPARATOR)
        || name_or_path.ends_with(".bin")
        || as_path.is_file();
    if looks_like_path {
        if !as_path.is_file() {
            bail!("whisper model file not found: {name_or_path}");
        }
        return Ok(as_path.to_path_buf());
    }
    if !KNOWN_WHISPER_MODELS.contains(&name_or_path) {
        bail!(
            "unknown model '{name_or_path}' (known: {}; or give the path of a ggml .bin file)",
            KNOWN_WHISPER_MODELS.join(", ")
        );
    }
    let path = models_dir().join(format!("ggml-{name_or_path}.bin"));
    if !path.is_file() {
        bail!(
            "model '{name_or_path}' is not installed (looked for {}); run scripts/fetch-models or pass a ggml file path",
            path.display()
        );
    }
    Ok(path)
}

/// Path of a support model (VAD, speaker) in the models dir, or a clear error.
pub fn support_model(file: &str) -> Result<PathBuf> {
    let path = models_dir().join(file);
    if !path.is_file() {
        bail!(
            "model file {} is missing; run scripts/fetch-models",
            path.display()
        );
    }
    Ok(path)
}

/// Lines for `spacescribe models list`.
pub fn list_models() -> Vec<String> {
    let dir = models_dir();
    let mut lines = vec![format!("models directory: {}", dir.display())];
    let mut listed = Vec::new();
    for (file, what) in INSTALLED_BY_SETUP {
        let path = dir.join(file);
        listed.push(path.clone());
        lines.push(describe(&path, what));
    }
    // Anything else the user dropped in (other ggml sizes, quantized files).
    if let Ok(entries) = std::fs::read_dir(&dir) {
        let mut extra: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| !listed.contains(p) && p.extension().is_some_and(|e| e == "bin"))
            .collect();
        extra.sort();
        for path in extra {
            lines.push(describe(&path, "other ggml file"));
        }
    }
    lines
}

fn describe(path: &Path, what: &str) -> String {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    match std::fs::metadata(path) {
        Ok(m) => format!(
            "  installed  {name:<28} {:>7.1} MB  {what}",
            m.len() as f64 / 1e6
        ),
        Err(_) => format!("  missing    {name:<28} {:>10}  {what}", ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_and_missing_paths_are_clear_errors() {
        let e = resolve_whisper_model("enormous").unwrap_err().to_string();
        assert!(e.contains("unknown model 'enormous'"), "{e}");
        let e = resolve_whisper_model("/nonexistent/ggml-x.bin")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not found"), "{e}");
    }

    #[test]
    fn an_existing_file_is_taken_as_given() {
        let f = tempfile::NamedTempFile::new().unwrap();
        let p = f.path().to_str().unwrap();
        assert_eq!(resolve_whisper_model(p).unwrap(), f.path());
    }
}
