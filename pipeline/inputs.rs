//! Which recordings a `transcribe` command covers and where each one's outputs go: files,
//! folders (every audio file under them, recursively, hidden ones skipped) and lists
//! (`--list FILE`, one path per line). Outputs mirror the tree below the folder given -
//! `in/a/x.m4a` with `--out OUT` gives `OUT/a/x.json` - or below `--tree-root` for files
//! and lists; a single file keeps plain `OUT/x.json`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// One recording to transcribe.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    pub path: PathBuf,
    /// Folder its outputs go into.
    pub out_dir: PathBuf,
    /// Output file names: `<stem>.txt`, `<stem>.json`, ...
    pub stem: String,
    /// Set when this input cannot be transcribed as listed (say why, count it failed).
    pub problem: Option<String>,
}

/// Extensions taken as audio without looking inside; other files in a folder are opened
/// and kept only if the decoder recognises them.
const AUDIO_EXTENSIONS: &[&str] = &[
    "wav", "wave", "mp3", "m4a", "m4b", "mp4", "aac", "flac", "ogg", "oga", "opus", "mkv", "mka",
    "webm", "weba", "aiff", "aif", "aifc", "caf", "wma", "ac3", "amr", "3gp", "mov",
];

fn has_audio_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

/// The inputs of a command, in a stable order (folders sorted by path).
/// `looks_like_audio` is the content probe for files without an audio extension.
pub fn collect(
    args: &[PathBuf],
    list: Option<&Path>,
    tree_root: Option<&Path>,
    out: &Path,
    looks_like_audio: impl Fn(&Path) -> bool,
) -> Result<Vec<Input>> {
    let mut inputs = Vec::new();
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let root = tree_root.map(absolute);
    let single = |path: &Path| -> Input {
        let Some(root) = &root else {
            return input(path, out.to_path_buf());
        };
        match absolute(path).strip_prefix(root) {
            Ok(rel) => input(path, mirrored(out, rel.parent().unwrap_or(Path::new("")))),
            Err(_) => Input {
                problem: Some(format!(
                    "{} is not under --tree-root {}",
                    path.display(),
                    root.display()
                )),
                ..input(path, out.to_path_buf())
            },
        }
    };
    for arg in args {
        let text = arg.to_string_lossy();
        if text == "-" || crate::source::http::is_url(&text) {
            // A stream: named later from its URL (or `--name`), outputs straight into OUT.
            inputs.push(input(arg, out.to_path_buf()));
            continue;
        }
        if !arg.is_dir() {
            inputs.push(single(arg));
            continue;
        }
        let walk = walkdir::WalkDir::new(arg)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !is_hidden(e.file_name()));
        for entry in walk {
            let entry = entry.with_context(|| format!("cannot read folder {}", arg.display()))?;
            let path = entry.path();
            if !entry.file_type().is_file()
                || !(has_audio_extension(path) || looks_like_audio(path))
            {
                continue;
            }
            let rel = path
                .strip_prefix(arg)
                .ok()
                .and_then(Path::parent)
                .unwrap_or(Path::new(""));
            inputs.push(input(path, mirrored(out, rel)));
        }
    }
    if let Some(list) = list {
        let text = std::fs::read_to_string(list)
            .with_context(|| format!("cannot read the list {}", list.display()))?;
        for line in text.lines().map(str::trim) {
            if !line.is_empty() && !line.starts_with('#') {
                inputs.push(single(Path::new(line)));
            }
        }
    }
    // Two inputs writing the same outputs (x.m4a and x.wav side by side): the second is
    // refused rather than overwriting the first.
    let mut taken: HashMap<PathBuf, PathBuf> = HashMap::new();
    for i in &mut inputs {
        let key = i.out_dir.join(&i.stem);
        if let Some(first) = taken.get(&key) {
            i.problem = Some(format!(
                "{}: its outputs {}.* would overwrite those of {}; rename one of them",
                i.path.display(),
                key.display(),
                first.display()
            ));
        } else {
            taken.insert(key, i.path.clone());
        }
    }
    Ok(inputs)
}

/// `out/rel`, or `out` itself for an input at the top of the tree.
fn mirrored(out: &Path, rel: &Path) -> PathBuf {
    if rel.as_os_str().is_empty() {
        out.to_path_buf()
    } else {
        out.join(rel)
    }
}

fn input(path: &Path, out_dir: PathBuf) -> Input {
    Input {
        path: path.to_path_buf(),
        out_dir,
        stem: path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "transcript".into()),
        problem: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(root: &Path, rel: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"x").unwrap();
    }

    #[test]
    fn folders_are_walked_and_mirrored() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("in");
        for f in [
            "a/x.m4a",
            "a/b/y.MP3",
            "z.wav",
            "notes.txt",
            "noext",
            ".hidden.wav",
            ".cache/w.wav",
        ] {
            touch(&root, f);
        }
        let out = Path::new("OUT");
        let probe = |p: &Path| p.ends_with("noext");
        let inputs = collect(std::slice::from_ref(&root), None, None, out, probe).unwrap();
        let got: Vec<(String, String)> = inputs
            .iter()
            .map(|i| {
                (
                    i.path.strip_prefix(&root).unwrap().display().to_string(),
                    i.out_dir.join(&i.stem).display().to_string(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("a/b/y.MP3".to_string(), "OUT/a/b/y".to_string()),
                ("a/x.m4a".into(), "OUT/a/x".into()),
                ("noext".into(), "OUT/noext".into()),
                ("z.wav".into(), "OUT/z".into()),
            ]
        );
    }

    #[test]
    fn lists_keep_plain_names_unless_given_a_tree_root() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("list.txt");
        std::fs::write(
            &list,
            "# archive\n/arc/a/x.m4a\n\n  /arc/y.wav  \n/elsewhere/z.wav\n",
        )
        .unwrap();
        let out = Path::new("OUT");
        let plain = collect(&[], Some(&list), None, out, |_| false).unwrap();
        assert!(plain.iter().all(|i| i.out_dir == out));
        let mirrored = collect(&[], Some(&list), Some(Path::new("/arc")), out, |_| false).unwrap();
        let dirs: Vec<_> = mirrored
            .iter()
            .map(|i| i.out_dir.display().to_string())
            .collect();
        assert_eq!(dirs, ["OUT/a", "OUT", "OUT"]);
    }

    #[test]
    fn two_inputs_for_one_set_of_outputs_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), "x.m4a");
        touch(dir.path(), "x.wav");
        let inputs = collect(
            &[dir.path().to_path_buf()],
            None,
            None,
            Path::new("O"),
            |_| false,
        )
        .unwrap();
        assert!(inputs[0].problem.is_none());
        let problem = inputs[1].problem.as_deref().unwrap();
        assert!(problem.contains("would overwrite those of"), "{problem}");
    }
}
