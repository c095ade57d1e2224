//! Speech to text for one chunk at a time. `whisper.rs` is the real engine; tests of the
//! threaded pipeline use fakes that implement the same trait.

pub mod bf16;
pub mod quality;
pub mod whisper;
pub mod words;

use anyhow::Result;

use crate::segment::Chunk;
use crate::transcript::Segment;

/// What one chunk turned into.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChunkTranscript {
    pub id: usize,
    /// Language whisper used for this chunk (detected when auto).
    pub language: Option<String>,
    /// Kept segments, times absolute.
    pub segments: Vec<Segment>,
    /// Segments dropped by the hallucination guards.
    pub rejected: usize,
}

/// The language of the recording being transcribed, shared by the workers of one run.
/// Detection before a pass costs whisper a second encoder pass, so like faster-whisper and
/// WhisperX we detect on the first chunk(s) and keep that language for the file. One
/// worker detects at a time; the others wait for its answer rather than pay for the same
/// encoder pass on the chunks that start with it. After that a chunk is still checked
/// against the language its own window was heard in (see [`other_language_heard`]), which
/// costs one decoder step, not an encode.
#[derive(Debug, Default)]
pub struct LanguageLatch {
    language: std::sync::OnceLock<String>,
    /// Chunks reach one worker in order, utterance by utterance (see
    /// [`LanguageLatch::utterance_by_utterance`]).
    in_order: bool,
    /// A worker is identifying the language now.
    detecting: std::sync::Mutex<bool>,
    detection_ended: std::sync::Condvar,
    /// The language the last finished chunk was transcribed in: the first guess for the
    /// next, so that after a Space changes language each chunk is not decoded twice.
    recent: std::sync::Mutex<Option<String>>,
}

impl LanguageLatch {
    /// For live mode, where one worker hears the utterances in order: the language is
    /// latched from the first utterance with [`MIN_SPEECH_TO_SWITCH_S`] of speech (live
    /// utterances seldom reach [`MIN_SPEECH_TO_LATCH_S`], and until a language is latched
    /// each utterance is left to its own guess, which on short ones wanders: Welsh for
    /// German, Korean for a second of English), and each utterance is then judged against
    /// the language of the one before ([`LanguageLatch::judged_against`]), so a Space that
    /// changes language is followed from the next utterance on. In file mode chunks finish
    /// in any order, and a chunk's text must not depend on which finished first.
    pub fn utterance_by_utterance() -> Self {
        Self {
            in_order: true,
            ..Self::default()
        }
    }

    pub fn get(&self) -> Option<&str> {
        self.language.get().map(String::as_str)
    }

    /// The language a chunk's own window is judged against: the run's, or in live mode
    /// the previous utterance's. `None` until a language is latched.
    pub fn judged_against(&self) -> Option<String> {
        let run = self.get()?.to_string();
        Some(if self.in_order {
            self.recent().unwrap_or(run)
        } else {
            run
        })
    }

    /// The language the last finished chunk was transcribed in, else the latched one.
    pub fn recent(&self) -> Option<String> {
        let recent = self
            .recent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        recent.or_else(|| self.get().map(str::to_string))
    }

    /// Note the language a chunk was transcribed in (see [`LanguageLatch::recent`]).
    pub fn note_recent(&self, language: &str) {
        *self.recent.lock().unwrap_or_else(|e| e.into_inner()) = Some(language.to_string());
    }

    /// Record a language; the first one recorded wins.
    pub fn set(&self, language: &str) {
        let _ = self.language.set(language.to_string());
    }

    /// Record the language whisper detected on a chunk holding `speech_s` seconds of
    /// speech, if that is enough to trust it (see [`MIN_SPEECH_TO_LATCH_S`], and for live
    /// mode [`LanguageLatch::utterance_by_utterance`]). Until a chunk has that much, every
    /// chunk detects its own language.
    pub fn offer(&self, language: &str, speech_s: f64) {
        let enough = if self.in_order {
            MIN_SPEECH_TO_SWITCH_S
        } else {
            MIN_SPEECH_TO_LATCH_S
        };
        if speech_s >= enough {
            self.set(language);
        }
    }

    fn detecting(&self) -> std::sync::MutexGuard<'_, bool> {
        // A worker that panicked while holding the lock left a plain bool behind.
        self.detecting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Take the turn to identify the language, unless it is latched or another worker
    /// holds the turn. The turn ends when the returned guard is dropped (after `offer`).
    pub fn claim_detection(&self) -> Option<DetectionTurn<'_>> {
        let mut detecting = self.detecting();
        if self.get().is_some() || *detecting {
            return None;
        }
        *detecting = true;
        Some(DetectionTurn(self))
    }

    /// Wait while another worker identifies the language; then the latched language, if
    /// its answer was latched.
    pub fn wait_for_detection(&self) -> Option<&str> {
        let mut detecting = self.detecting();
        while *detecting && self.get().is_none() {
            detecting = self
                .detection_ended
                .wait(detecting)
                .unwrap_or_else(|e| e.into_inner());
        }
        self.get()
    }
}

/// One worker's turn to identify the language (see [`LanguageLatch::claim_detection`]).
pub struct DetectionTurn<'a>(&'a LanguageLatch);

impl Drop for DetectionTurn<'_> {
    fn drop(&mut self) {
        *self.0.detecting() = false;
        self.0.detection_ended.notify_all();
    }
}

/// Least speech (seconds) in a chunk before its detected language is kept for the rest of
/// the run. Whisper's guess from a second or two (a "hello?" while the Space fills) is often
/// wrong, and a wrong latch would transcribe the whole recording in the wrong language.
pub const MIN_SPEECH_TO_LATCH_S: f64 = 6.0;

/// Least speech (seconds) in a chunk before the language its window is clearly heard in
/// (see [`OTHER_LANGUAGE_MIN_P`]) is trusted over the language the chunks before it were in.
/// Measured with base on the windows of live mode's utterances (2026-12-06): of 155 English
/// ones with 2 s of speech or more (interview, panel, rapid, pyannote-sample), none was
/// heard as another language with 0.75 or more; under 2 s one was (Japanese, 0.90, 1.0 s).
pub const MIN_SPEECH_TO_SWITCH_S: f64 = 2.0;

/// Least probability whisper's language identification must give a language other than
/// the run's before a chunk is transcribed in it. Measured with base, on the windows of
/// whole chunks: English chunks of the samples 0.965-0.999 English, German ones
/// 0.896-0.998 German, and one robotic German chunk 0.33 English, 0.24 Welsh (which must
/// stay German), as does the chunk where a recording turns from English to German (0.30
/// English, 0.17 German).
pub const OTHER_LANGUAGE_MIN_P: f32 = 0.75;

/// The language, other than `expected` (the run's, or live the last utterance's), that a
/// chunk's window was clearly heard in, if any: whisper's language probabilities `probs`
/// (indexed by its language ids) give it at least [`OTHER_LANGUAGE_MIN_P`], and the chunk
/// holds enough speech to trust that ([`MIN_SPEECH_TO_SWITCH_S`]) - unless it is the run's
/// own language `run`, which live mode goes back to after a short utterance too (the length
/// guards against a stray language: Japanese for a second of English). A Space that turns
/// from English to German mid-way would otherwise have its German transcribed as English -
/// whisper, told the wrong language, writes a loose translation.
pub fn other_language_heard(
    probs: &[f32],
    expected: &str,
    run: &str,
    speech_s: f64,
) -> Option<String> {
    language_heard(probs)
        .filter(|lang| lang != expected)
        .filter(|lang| speech_s >= MIN_SPEECH_TO_SWITCH_S || lang == run)
}

/// Whisper is sure of no language for the window (see [`OTHER_LANGUAGE_MIN_P`]): it may
/// hold two, as where an interpreter follows each answer.
pub fn language_unsure(probs: &[f32]) -> bool {
    probs.iter().all(|&p| p < OTHER_LANGUAGE_MIN_P)
}

/// Languages a chunk is never switched to. Whisper's identification offers them for
/// speech it cannot place: espeak-ng's Spanish and Italian voices reading English were
/// heard as Latin with 0.74-0.85 (and decoded as Latin gibberish), and the runners-up on
/// the robotic German sample are Yiddish, Nynorsk and Welsh. A recording in one of them is
/// rare; a run whose first chunk is heard as one still takes it (`--language` settles it).
pub const NEVER_SWITCHED_TO: [&str; 4] = ["la", "cy", "nn", "yi"];

/// The language whisper's probabilities `probs` (indexed by its language ids) make most
/// likely, and its probability.
pub fn most_likely_language(probs: &[f32]) -> Option<(&'static str, f32)> {
    let (id, p) = probs.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
    Some((whisper_rs::get_lang_str(id as i32)?, *p))
}

/// The language of whisper's probabilities `probs` if it is sure of one (and it is not one
/// of [`NEVER_SWITCHED_TO`]).
pub fn language_heard(probs: &[f32]) -> Option<String> {
    let (best, p) = most_likely_language(probs)?;
    (p >= OTHER_LANGUAGE_MIN_P && !NEVER_SWITCHED_TO.contains(&best)).then(|| best.to_string())
}

/// What whisper's identification made of one speech region (see [`language_parts`]).
#[derive(Debug, Clone, PartialEq)]
pub enum RegionLanguage {
    /// Sure of this language ([`language_heard`]).
    Heard(String),
    /// Sure of none (or only of one never switched to); this one is the likeliest.
    Leaning(String),
    /// Too short to ask.
    NotAsked,
}

/// The [`RegionLanguage`] of whisper's probabilities `probs` for a region.
pub fn region_language(probs: &[f32]) -> RegionLanguage {
    match (language_heard(probs), most_likely_language(probs)) {
        (Some(lang), _) => RegionLanguage::Heard(lang),
        (None, Some((lang, _))) => RegionLanguage::Leaning(lang.to_string()),
        (None, None) => RegionLanguage::NotAsked,
    }
}

/// A stretch of a chunk to be transcribed in one language.
#[derive(Debug, Clone, PartialEq)]
pub struct LanguagePart {
    pub start: f64,
    pub end: f64,
    pub language: String,
}

/// A chunk from `start` to `end` cut where its language changes. `regions` are its speech
/// regions in time order and `heard` the language identified on each. A region whisper is
/// not sure of that leans to `fallback` (the run's language) is in it: robotic German that
/// whisper placed nowhere for sure, next to a region it heard as English, went to English
/// with it (`long-de`: 38 s of a German run written in English). Any other region not heard
/// for sure goes with the one before it (at the start, with the first one heard). Runs of
/// one language make a part; parts meet halfway through the pause between them. No region
/// heard: one part in `fallback`.
pub fn language_parts(
    start: f64,
    end: f64,
    regions: &[(f64, f64)],
    heard: &[RegionLanguage],
    fallback: &str,
) -> Vec<LanguagePart> {
    let first_heard = heard.iter().find_map(|h| match h {
        RegionLanguage::Heard(lang) => Some(lang.as_str()),
        _ => None,
    });
    let mut current = first_heard.unwrap_or(fallback);
    let mut parts: Vec<LanguagePart> = Vec::new();
    for (&(a, b), lang) in regions.iter().zip(heard) {
        current = match lang {
            RegionLanguage::Heard(lang) => lang,
            RegionLanguage::Leaning(lang) if lang == fallback => fallback,
            _ => current,
        };
        match parts.last_mut() {
            Some(last) if last.language == current => last.end = b,
            Some(last) => {
                let cut = (last.end + a) / 2.0;
                last.end = cut;
                parts.push(LanguagePart {
                    start: cut,
                    end: b,
                    language: current.to_string(),
                });
            }
            None => parts.push(LanguagePart {
                start,
                end: b,
                language: current.to_string(),
            }),
        }
    }
    match parts.last_mut() {
        Some(last) => last.end = end,
        None => parts.push(LanguagePart {
            start,
            end,
            language: fallback.to_string(),
        }),
    }
    parts
}

/// A speech-to-text engine bound to one worker thread.
pub trait ChunkTranscriber: Send {
    fn transcribe(&mut self, chunk: &Chunk, language: &LanguageLatch) -> Result<ChunkTranscript>;

    /// Would `transcribe` identify the language itself, for want of one latched or given?
    /// (Then a worker with other work for the chunk does that first: see the pipeline.)
    fn would_detect_language(&self, _language: &LanguageLatch) -> bool {
        false
    }
}

/// Join chunk results (already in time order) into one transcript. Its language is the one
/// most segments were transcribed in, so a stray misdetection on a short chunk does not
/// win; a segment in another language keeps its own (`Segment::language`).
pub fn assemble(chunks: &[ChunkTranscript], duration: f64) -> crate::transcript::Transcript {
    // Each segment in the language it was transcribed in: its own, else its chunk's.
    let mut segments: Vec<Segment> = chunks
        .iter()
        .flat_map(|c| {
            c.segments.iter().map(|seg| Segment {
                language: seg.language.clone().or_else(|| c.language.clone()),
                ..seg.clone()
            })
        })
        .collect();
    // A chunk with no segments still says what it was heard as.
    let silent_chunks = chunks.iter().filter(|c| c.segments.is_empty());
    let mut votes: std::collections::HashMap<&str, usize> = Default::default();
    for lang in segments
        .iter()
        .filter_map(|s| s.language.as_deref())
        .chain(silent_chunks.filter_map(|c| c.language.as_deref()))
    {
        *votes.entry(lang).or_default() += 1;
    }
    let language = votes
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        .map(|(l, _)| l.to_string())
        .unwrap_or_else(|| "en".to_string());
    for seg in &mut segments {
        seg.language = seg.language.take().filter(|l| *l != language);
    }
    crate::transcript::Transcript {
        language,
        duration,
        segments,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(id: usize, lang: &str, n: usize) -> ChunkTranscript {
        let seg = Segment {
            start: id as f64,
            end: id as f64 + 1.0,
            text: format!("chunk {id}"),
            words: vec![],
            speaker: None,
            avg_logprob: 0.0,
            no_speech_prob: 0.0,
            language: None,
        };
        ChunkTranscript {
            id,
            language: Some(lang.into()),
            segments: vec![seg; n],
            rejected: 0,
        }
    }

    #[test]
    fn a_short_chunk_does_not_fix_the_language_for_the_run() {
        let latch = LanguageLatch::default();
        latch.offer("nn", 1.5);
        assert_eq!(latch.get(), None);
        latch.offer("de", MIN_SPEECH_TO_LATCH_S);
        latch.offer("en", 20.0);
        assert_eq!(latch.get(), Some("de"));
    }

    #[test]
    fn one_worker_detects_at_a_time_and_the_others_wait_for_its_answer() {
        let latch = LanguageLatch::default();
        // Nobody detecting: no wait, no language.
        assert_eq!(latch.wait_for_detection(), None);
        let turn = latch.claim_detection();
        assert!(turn.is_some());
        assert!(
            latch.claim_detection().is_none(),
            "a second turn while one is held"
        );
        std::thread::scope(|s| {
            let waiter = s.spawn(|| latch.wait_for_detection().map(str::to_string));
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(
                !waiter.is_finished(),
                "returned while the detection was under way"
            );
            latch.offer("de", 20.0);
            drop(turn);
            assert_eq!(waiter.join().unwrap().as_deref(), Some("de"));
        });
        // Latched: nothing left to detect.
        assert!(latch.claim_detection().is_none());
        // A detection that latches nothing (too little speech) frees the turn.
        let short = LanguageLatch::default();
        let turn = short.claim_detection();
        short.offer("nn", 1.0);
        drop(turn);
        assert_eq!(short.wait_for_detection(), None);
        assert!(short.claim_detection().is_some());
    }

    fn probs(pairs: &[(&str, f32)]) -> Vec<f32> {
        let mut p = vec![0.0; whisper_rs::get_lang_max_id() as usize + 1];
        for (lang, v) in pairs {
            p[whisper_rs::get_lang_id(lang).unwrap() as usize] = *v;
        }
        p
    }

    #[test]
    fn a_chunk_clearly_in_another_language_is_transcribed_in_it() {
        // A German window in an English run (figures from base on the samples).
        let german = probs(&[("de", 0.896), ("yi", 0.042), ("en", 0.01)]);
        assert_eq!(
            other_language_heard(&german, "en", "en", 20.0).as_deref(),
            Some("de")
        );
        // Its own language: nothing to change.
        assert_eq!(other_language_heard(&german, "de", "de", 20.0), None);
        // A robotic German window whisper half takes for English: it stays German.
        let unsure = probs(&[("en", 0.331), ("cy", 0.242), ("la", 0.195)]);
        assert_eq!(other_language_heard(&unsure, "de", "de", 20.0), None);
        // Too little speech to go by, however sure whisper is.
        assert_eq!(other_language_heard(&german, "en", "en", 1.5), None);
        assert_eq!(other_language_heard(&[], "en", "en", 20.0), None);
        // Live, back to the run's own language (German here) after an English utterance:
        // a short one will do.
        assert_eq!(
            other_language_heard(&german, "en", "de", 1.5).as_deref(),
            Some("de")
        );
    }

    #[test]
    fn a_window_of_two_languages_is_unsure_and_a_clear_one_is_heard() {
        let mixed = probs(&[("en", 0.63), ("de", 0.3)]);
        assert!(language_unsure(&mixed));
        assert_eq!(language_heard(&mixed), None);
        let german = probs(&[("de", 0.9), ("en", 0.05)]);
        assert!(!language_unsure(&german));
        assert_eq!(language_heard(&german).as_deref(), Some("de"));
        // Accented or robotic English that whisper takes for Latin is not switched to it.
        let latin = probs(&[("la", 0.85), ("en", 0.1)]);
        assert_eq!(language_heard(&latin), None);
        assert_eq!(other_language_heard(&latin, "en", "en", 20.0), None);
    }

    #[test]
    fn a_chunk_is_cut_halfway_through_the_pause_where_its_language_changes() {
        let some = |l: &str| RegionLanguage::Heard(l.to_string());
        let none = RegionLanguage::NotAsked;
        let regions = [
            (1.0, 8.0),
            (8.9, 12.0),
            (12.4, 20.0),
            (21.0, 21.5),
            (22.0, 28.0),
        ];
        // English, German, German, a short unsure region (goes with the German), English.
        let heard = [
            some("en"),
            some("de"),
            none.clone(),
            none.clone(),
            some("en"),
        ];
        let parts = language_parts(0.5, 29.0, &regions, &heard, "fr");
        let part = |start: f64, end: f64, language: &str| LanguagePart {
            start,
            end,
            language: language.to_string(),
        };
        assert_eq!(
            parts,
            vec![
                part(0.5, 8.45, "en"),
                part(8.45, 21.75, "de"),
                part(21.75, 29.0, "en")
            ]
        );
        // Unsure regions at the start go with the first one heard.
        let parts = language_parts(0.0, 10.0, &regions[..2], &[none.clone(), some("de")], "en");
        assert_eq!(parts, vec![part(0.0, 10.0, "de")]);
        // A region whisper is unsure of that leans to the run's language stays in it, where
        // one leaning elsewhere (here to Welsh, never switched to) goes with its neighbour.
        let lean = |l: &str| RegionLanguage::Leaning(l.to_string());
        let parts = language_parts(
            0.0,
            29.0,
            &regions[..3],
            &[lean("cy"), some("en"), lean("de")],
            "de",
        );
        assert_eq!(parts, vec![part(0.0, 12.2, "en"), part(12.2, 29.0, "de")]);
        // Nothing heard: the whole chunk in the fallback.
        let parts = language_parts(0.0, 10.0, &regions[..2], &[none.clone(), none], "en");
        assert_eq!(parts, vec![part(0.0, 10.0, "en")]);
        assert_eq!(
            language_parts(0.0, 10.0, &[], &[], "en"),
            vec![part(0.0, 10.0, "en")]
        );
    }

    #[test]
    fn live_utterances_are_judged_against_the_one_before() {
        let latch = LanguageLatch::utterance_by_utterance();
        latch.offer("en", 1.5);
        assert_eq!(latch.get(), None, "too short to latch even live");
        latch.offer("en", MIN_SPEECH_TO_SWITCH_S);
        assert_eq!(latch.judged_against().as_deref(), Some("en"));
        latch.note_recent("de");
        assert_eq!(latch.judged_against().as_deref(), Some("de"));
        // In a file, chunks finish in any order: each is judged against the run's language.
        let file = LanguageLatch::default();
        file.offer("en", MIN_SPEECH_TO_SWITCH_S);
        assert_eq!(file.get(), None, "a file latches from a longer chunk");
        file.offer("en", MIN_SPEECH_TO_LATCH_S);
        file.note_recent("de");
        assert_eq!(file.judged_against().as_deref(), Some("en"));
    }

    #[test]
    fn the_recent_language_is_the_first_guess_for_the_next_chunk() {
        let latch = LanguageLatch::default();
        assert_eq!(latch.recent(), None);
        latch.offer("en", 20.0);
        assert_eq!(latch.recent().as_deref(), Some("en"));
        latch.note_recent("de");
        assert_eq!(latch.recent().as_deref(), Some("de"));
        assert_eq!(latch.get(), Some("en"), "the run's language stays");
    }

    #[test]
    fn majority_language_wins_and_segments_keep_order() {
        let t = assemble(
            &[chunk(0, "de", 1), chunk(1, "en", 3), chunk(2, "de", 1)],
            9.0,
        );
        assert_eq!(t.language, "en");
        assert_eq!(t.segments.len(), 5);
        assert_eq!(t.segments[0].text, "chunk 0");
        assert_eq!(t.segments[4].text, "chunk 2");
        assert_eq!(t.duration, 9.0);
    }

    #[test]
    fn segments_in_another_language_keep_it_and_the_rest_take_the_transcripts() {
        let mut mixed = chunk(1, "en", 3);
        mixed.segments[2].language = Some("de".into());
        for seg in &mut mixed.segments[..2] {
            seg.language = Some("en".into());
        }
        let t = assemble(&[chunk(0, "de", 1), mixed, chunk(2, "en", 1)], 9.0);
        assert_eq!(
            t.language, "en",
            "three English segments against two German"
        );
        let languages: Vec<Option<&str>> =
            t.segments.iter().map(|s| s.language.as_deref()).collect();
        assert_eq!(languages, [Some("de"), None, None, Some("de"), None]);
    }
}
