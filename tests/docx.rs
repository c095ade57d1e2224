//! The .docx output opens in an independent reader: python-docx (installed into the
//! project's venv by scripts/fetch-models) reads back the title, headline, statistics table
//! and labelled transcript. Fails, never skips, when the venv or python-docx is missing.

use std::path::PathBuf;
use std::process::Command;

use spacescribe::document::RunDocument;
use spacescribe::report::html::headline;
use spacescribe::report::{write_outputs, Format, ReportAudio};
use spacescribe::stats::compute_stats;

mod common;

use common::conversation;

/// `$SPACESCRIBE_VENV`, else `${XDG_CACHE_HOME:-~/.cache}/spacescribe/venv`, as
/// scripts/fetch-models makes it.
fn venv_python() -> PathBuf {
    let venv = std::env::var_os("SPACESCRIBE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache"))
                .join("spacescribe")
                .join("venv")
        });
    let python = venv.join("bin").join("python");
    assert!(
        python.is_file(),
        "{} missing: run scripts/setup (or scripts/fetch-models) to create the venv",
        python.display()
    );
    let has_docx = Command::new(&python)
        .args(["-c", "import docx"])
        .status()
        .expect("run the venv's python")
        .success();
    assert!(
        has_docx,
        "python-docx is not installed in {}: run scripts/fetch-models",
        python.display()
    );
    python
}

const READER: &str = r#"
import json, sys, docx
d = docx.Document(sys.argv[1])
print(json.dumps({
    "paragraphs": [p.text for p in d.paragraphs],
    "bold": [[r.text for r in p.runs if r.bold] for p in d.paragraphs],
    "tables": [[[c.text for c in row.cells] for row in t.rows] for t in d.tables],
}))
"#;

#[test]
fn python_docx_reads_the_title_headline_table_and_transcript() {
    let python = venv_python();
    let dir = tempfile::tempdir().unwrap();
    let doc = RunDocument::new(conversation(), None, vec![Format::Docx]);
    let paths = write_outputs(
        dir.path(),
        "space",
        &doc,
        &[Format::Docx],
        &ReportAudio::None,
    )
    .unwrap();
    assert_eq!(paths[0].extension().unwrap(), "docx");

    let out = Command::new(&python)
        .args(["-c", READER])
        .arg(&paths[0])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python-docx cannot read the file: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let paragraphs: Vec<&str> = read["paragraphs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();

    assert_eq!(paragraphs[0], "space", "title first");
    let headline = headline(&compute_stats(&doc.transcript));
    assert!(headline.starts_with("Host Sam dominated"), "{headline}");
    assert!(paragraphs.contains(&headline.as_str()), "{paragraphs:?}");
    assert!(paragraphs.contains(&"[00:00:19] Dana: Line 1 from speaker 1 & friends <b>"));
    assert!(paragraphs.contains(&"[00:00:36] Host Sam: Line 3 from speaker 0 & friends <b>"));
    let line = paragraphs
        .iter()
        .position(|p| p.starts_with("[00:00:29]"))
        .unwrap();
    assert_eq!(
        read["bold"][line],
        serde_json::json!(["Caller Ken"]),
        "name bold"
    );

    let table = &read["tables"][0];
    assert_eq!(table[0][0], "Speaker");
    assert_eq!(table[0][10], "Backchannels");
    assert_eq!(table[0][11], "Overlap");
    assert_eq!(
        table.as_array().unwrap().len(),
        4,
        "header and three speakers"
    );
    let names: Vec<_> = (1..4).map(|r| table[r][0].as_str().unwrap()).collect();
    assert_eq!(names, ["Host Sam", "Dana", "Caller Ken"]);
    assert_eq!(table[1][3], "2", "Host Sam's turns");
}
