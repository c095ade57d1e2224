//! Speaker labels while the conversation is still going (live mode): each new utterance's
//! windows join the closest known voice, or start a new one. The labels printed live stay
//! stable for the session; the saved files use the full clustering run at the end.

use super::SpeakerWindow;

/// Cosine similarity to a voice profile above which a window belongs to that voice.
const SAME_VOICE: f32 = 0.5;

#[derive(Debug, Default)]
pub struct OnlineSpeakers {
    /// Sum of each speaker's window embeddings (compared by cosine).
    profiles: Vec<Vec<f32>>,
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let d: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let n =
        a.iter().map(|x| x * x).sum::<f32>().sqrt() * b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        d / n
    } else {
        0.0
    }
}

impl OnlineSpeakers {
    /// The speaker of an utterance from its windows (None without windows).
    pub fn assign(&mut self, windows: &[SpeakerWindow]) -> Option<usize> {
        if windows.is_empty() {
            return None;
        }
        let dim = windows[0].embedding.len();
        let mut mean = vec![0.0f32; dim];
        for w in windows {
            mean.iter_mut().zip(&w.embedding).for_each(|(a, b)| *a += b);
        }
        let best = self
            .profiles
            .iter()
            .enumerate()
            .map(|(i, p)| (i, cosine(p, &mean)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let id = match best {
            Some((i, c)) if c >= SAME_VOICE => i,
            _ => {
                self.profiles.push(vec![0.0; dim]);
                self.profiles.len() - 1
            }
        };
        self.profiles[id]
            .iter_mut()
            .zip(&mean)
            .for_each(|(a, b)| *a += b);
        Some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn win(v: Vec<f32>) -> SpeakerWindow {
        SpeakerWindow {
            start: 0.0,
            end: 1.0,
            embedding: v,
        }
    }

    #[test]
    fn known_voices_keep_their_label_new_ones_get_the_next() {
        let mut s = OnlineSpeakers::default();
        assert_eq!(s.assign(&[win(vec![1.0, 0.0])]), Some(0));
        assert_eq!(s.assign(&[win(vec![0.0, 1.0])]), Some(1));
        assert_eq!(
            s.assign(&[win(vec![0.9, 0.1]), win(vec![1.0, 0.05])]),
            Some(0)
        );
        assert_eq!(s.assign(&[]), None);
    }
}
