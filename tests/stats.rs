//! `spacescribe stats FILE.rttm` counts what the sample scripts put in: the references are
//! exact, so the counts of turns, backchannels and interruptions are known by design
//! (samples/README.md says what happens in each mix).

mod common;

use common::{sample, spacescribe, stderr};
use serde_json::Value;

fn stats_of(rttm: &str) -> Value {
    let path = sample(rttm);
    let out = spacescribe(&["stats", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("stats is JSON")
}

fn total(stats: &Value, field: &str) -> u64 {
    stats["speakers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s[field].as_u64().unwrap())
        .sum()
}

fn of(stats: &Value, name: &str, field: &str) -> u64 {
    stats["speakers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no speaker {name}"))[field]
        .as_u64()
        .unwrap()
}

#[test]
fn the_panel_reference_has_the_host_s_four_backchannels_and_no_turns_for_them() {
    let s = stats_of("panel.rttm");
    // "Right.", "Mm-hm.", "Mm-hm.", "Right." while guests hold the floor.
    assert_eq!(of(&s, "joe", "backchannels"), 4);
    // Interruptions where the first speaker goes on 0.7-1.0 s: awb twice, slt once;
    // joe's cut-in at 92.2 s is none (slt stops 0.3 s later).
    assert_eq!(of(&s, "awb", "interruptions_made"), 2);
    assert_eq!(of(&s, "joe", "interruptions_made"), 0);
    assert_eq!(s["num_speakers"], 5);
}

#[test]
fn the_rapid_reference_has_its_backchannels_and_interruptions() {
    let s = stats_of("rapid.rttm");
    assert_eq!(total(&s, "backchannels"), 14);
    assert_eq!(total(&s, "interruptions_made"), 11);
    assert_eq!(
        total(&s, "interruptions_made"),
        total(&s, "interruptions_suffered")
    );
    let csv = spacescribe(&["stats", sample("rapid.rttm").to_str().unwrap(), "--csv"]);
    let text = String::from_utf8(csv.stdout).unwrap();
    assert!(text.lines().next().unwrap().contains(",backchannels,"));
    assert_eq!(text.lines().count(), 6, "{text}");
}

#[test]
fn a_file_that_is_not_rttm_is_one_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.rttm");
    std::fs::write(&bad, "SPEAKER x 1 0.5 soon <NA> <NA> A <NA> <NA>\n").unwrap();
    let out = spacescribe(&["stats", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("line 1"), "{err}");
}
