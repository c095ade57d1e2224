//! Where an MP4/M4A file's audio really starts and ends: its edit list (`elst`).
//!
//! Why: an AAC encoder puts priming samples before the audio (1024 with ffmpeg's encoder,
//! 2112 with Apple's), and the container's edit list says to skip them and where the
//! audio ends. symphonia 0.6 does not apply edit lists (its isomp4 demuxer has a TODO
//! for it), so every time in an m4a transcript - words, turns, statistics - came out
//! late by the priming: 21 ms for `samples/interview.m4a` (48 kHz) and 43 ms for
//! `samples/rapid.m4a` (24 kHz) against the wav they were made from. ffmpeg, browsers
//! and players apply the edit list, so a reporter checking a quote against the audio
//! hears it where the transcript says only once we do too.
//!
//! Only the boxes on the path to the audio track's edit list are read (`moov`, `trak`,
//! `mdia`/`hdlr`/`mdhd`, `edts`/`elst`, and `mvhd` for the edit's time scale); a full
//! MP4 decoder (such as the mp4-atom crate) would decode and validate every sample table
//! in `moov`, and one box it does not accept anywhere would cost the whole file its
//! edit. Anything unexpected here means "no edit": the audio is then used as decoded,
//! as before.

use std::io::{Read, Seek, SeekFrom};

/// What the audio track's edit list asks of the decoded samples, in the track's own
/// sample frames.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EditTrim {
    /// Silence before the media starts (an empty edit first): rare for audio.
    pub lead_silence: u64,
    /// Decoded frames to drop at the start (the encoder's priming).
    pub skip: u64,
    /// Frames to present after those, when the edit says (drops the end padding).
    pub keep: Option<u64>,
}

/// A time in the container's units: `ticks / scale` seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ticks {
    ticks: u64,
    scale: u32,
}

impl Ticks {
    fn in_frames(self, rate: u32) -> u64 {
        let scaled = u128::from(self.ticks) * u128::from(rate) + u128::from(self.scale) / 2;
        (scaled / u128::from(self.scale)) as u64
    }
}

/// The audio track's edit as the file states it; `in_frames` turns it into frames once
/// the decoder's sample rate is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AudioEdit {
    lead_silence: Ticks,
    skip: Ticks,
    keep: Option<Ticks>,
}

impl AudioEdit {
    pub fn in_frames(&self, sample_rate: u32) -> EditTrim {
        EditTrim {
            lead_silence: self.lead_silence.in_frames(sample_rate),
            skip: self.skip.in_frames(sample_rate),
            keep: self.keep.map(|k| k.in_frames(sample_rate)),
        }
    }
}

/// Longest `moov` read into memory: a two-hour AAC track's tables take about 2 MB.
const MAX_MOOV_BYTES: u64 = 64 << 20;

/// The audio track's edit, from a seekable MP4 byte stream; the stream is left at its
/// start either way. `None` for other formats, files without an edit list, edits this
/// reader does not apply (several media edits, a rate other than 1), and any read error.
pub fn read_audio_edit<R: Read + Seek + ?Sized>(r: &mut R) -> Option<AudioEdit> {
    let moov = find_moov(r);
    r.seek(SeekFrom::Start(0)).ok()?;
    audio_edit(&moov?)
}

/// The `moov` box's body, walking the top-level boxes (skipping `mdat` by seeking).
fn find_moov<R: Read + Seek + ?Sized>(r: &mut R) -> Option<Vec<u8>> {
    r.seek(SeekFrom::Start(0)).ok()?;
    let mut first = true;
    loop {
        let mut head = [0u8; 8];
        r.read_exact(&mut head).ok()?;
        let kind = &head[4..8];
        // Only ISO BMFF files: the first box is `ftyp` (or, in old QuickTime files, one of
        // the boxes that may come first).
        if first && !matches!(kind, b"ftyp" | b"moov" | b"free" | b"wide" | b"mdat") {
            return None;
        }
        first = false;
        let declared = u32::from_be_bytes(head[..4].try_into().ok()?);
        let size_to_end = declared == 0;
        let (header_len, total) = match declared {
            1 => {
                let mut large = [0u8; 8];
                r.read_exact(&mut large).ok()?;
                (16, u64::from_be_bytes(large))
            }
            // A box that runs to the end of the file: nothing after it.
            0 if kind != b"moov" => return None,
            0 => (8, 8 + MAX_MOOV_BYTES),
            n => (8, u64::from(n)),
        };
        let body = total.checked_sub(header_len)?;
        if kind == b"moov" {
            if body > MAX_MOOV_BYTES {
                return None;
            }
            let mut buf = Vec::new();
            r.take(body).read_to_end(&mut buf).ok()?;
            // A file cut off inside moov: its tables are not to be trusted.
            let whole = buf.len() as u64 == body || size_to_end;
            return whole.then_some(buf);
        }
        r.seek(SeekFrom::Current(i64::try_from(body).ok()?)).ok()?;
    }
}

/// One box inside a parent's body: its four-letter type and its body.
fn boxes(mut body: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    std::iter::from_fn(move || {
        if body.len() < 8 {
            return None;
        }
        let size = u32::from_be_bytes(body[..4].try_into().ok()?) as u64;
        let kind = &body[4..8];
        let (header_len, total) = match size {
            1 => (
                16usize,
                u64::from_be_bytes(body.get(8..16)?.try_into().ok()?),
            ),
            0 => (8, body.len() as u64),
            n => (8, n),
        };
        let total = usize::try_from(total).ok()?;
        if total < header_len || total > body.len() {
            return None;
        }
        let inner = &body[header_len..total];
        body = &body[total..];
        Some((kind, inner))
    })
}

fn child<'a>(body: &'a [u8], kind: &[u8]) -> Option<&'a [u8]> {
    boxes(body).find(|(k, _)| *k == kind).map(|(_, b)| b)
}

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn be_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// The time scale of an `mvhd` or `mdhd` body (version 0: 32-bit times, 1: 64-bit).
fn timescale(full_box: &[u8]) -> Option<u32> {
    let at = if *full_box.first()? == 1 { 20 } else { 12 };
    be_u32(full_box, at).filter(|&t| t > 0)
}

/// The first audio track's edit, from the `moov` body.
fn audio_edit(moov: &[u8]) -> Option<AudioEdit> {
    let movie_scale = timescale(child(moov, b"mvhd")?)?;
    let trak = boxes(moov)
        .filter(|(k, _)| *k == b"trak")
        .map(|(_, b)| b)
        .find(|trak| {
            child(trak, b"mdia")
                .and_then(|m| child(m, b"hdlr"))
                .and_then(|h| h.get(8..12))
                == Some(b"soun")
        })?;
    let media_scale = timescale(child(child(trak, b"mdia")?, b"mdhd")?)?;
    let elst = child(child(trak, b"edts")?, b"elst")?;
    let version = *elst.first()?;
    let count = be_u32(elst, 4)? as usize;
    let entry_len = if version == 1 { 20 } else { 12 };
    let mut lead_movie_time = 0u64;
    let mut media_edit = None;
    for i in 0..count.min(16) {
        let at = 8 + i * entry_len;
        let (duration, media_time, rate_at) = if version == 1 {
            (be_u64(elst, at)?, be_u64(elst, at + 8)? as i64, at + 16)
        } else {
            (
                u64::from(be_u32(elst, at)?),
                i64::from(be_u32(elst, at + 4)? as i32),
                at + 8,
            )
        };
        if media_time == -1 {
            // An empty edit: silence, but only before the media edit.
            if media_edit.is_some() {
                return None;
            }
            lead_movie_time += duration;
            continue;
        }
        if media_edit.is_some() || media_time < 0 || be_u32(elst, rate_at)? != 0x0001_0000 {
            return None;
        }
        media_edit = Some((duration, media_time as u64));
    }
    if count > 16 {
        return None;
    }
    let (duration, media_time) = media_edit?;
    let movie = |ticks| Ticks {
        ticks,
        scale: movie_scale,
    };
    Some(AudioEdit {
        lead_silence: movie(lead_movie_time),
        skip: Ticks {
            ticks: media_time,
            scale: media_scale,
        },
        // Duration 0 in a one-edit list means "to the end of the media" in files written by
        // some muxers.
        keep: (duration > 0).then(|| movie(duration)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(body);
        b
    }

    /// A version-0 `mvhd` or `mdhd` body with this time scale.
    fn header_v0(scale: u32) -> Vec<u8> {
        let mut b = vec![0u8; 12];
        b.extend_from_slice(&scale.to_be_bytes());
        b.extend_from_slice(&[0u8; 8]);
        b
    }

    fn elst_v0(entries: &[(u32, i32)]) -> Vec<u8> {
        let mut b = vec![0u8; 4];
        b.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        for &(duration, media_time) in entries {
            b.extend_from_slice(&duration.to_be_bytes());
            b.extend_from_slice(&media_time.to_be_bytes());
            b.extend_from_slice(&0x0001_0000u32.to_be_bytes());
        }
        b
    }

    fn trak(handler: &[u8; 4], media_scale: u32, elst: Option<Vec<u8>>) -> Vec<u8> {
        let mut hdlr = vec![0u8; 8];
        hdlr.extend_from_slice(handler);
        hdlr.extend_from_slice(&[0u8; 13]);
        let mdia = [
            mp4_box(b"mdhd", &header_v0(media_scale)),
            mp4_box(b"hdlr", &hdlr),
        ]
        .concat();
        let mut body = mp4_box(b"tkhd", &[0u8; 84]);
        if let Some(elst) = elst {
            body.extend(mp4_box(b"edts", &mp4_box(b"elst", &elst)));
        }
        body.extend(mp4_box(b"mdia", &mdia));
        mp4_box(b"trak", &body)
    }

    /// ftyp, a large mdat, then moov (as ffmpeg writes without `+faststart`).
    fn file(traks: &[Vec<u8>], movie_scale: u32) -> Vec<u8> {
        let mut moov = mp4_box(b"mvhd", &header_v0(movie_scale));
        for t in traks {
            moov.extend_from_slice(t);
        }
        [
            mp4_box(b"ftyp", b"M4A \0\0\0\0"),
            mp4_box(b"mdat", &vec![7u8; 5000]),
            mp4_box(b"moov", &moov),
        ]
        .concat()
    }

    #[test]
    fn ffmpeg_priming_is_skipped_and_the_padding_cut() {
        // ffmpeg's AAC at 24 kHz: 1024 priming samples, then 10 s.
        let f = file(
            &[trak(b"soun", 24000, Some(elst_v0(&[(10_000, 1024)])))],
            1000,
        );
        let mut cursor = Cursor::new(f);
        cursor.set_position(123);
        let trim = read_audio_edit(&mut cursor).unwrap().in_frames(24000);
        assert_eq!(
            trim,
            EditTrim {
                lead_silence: 0,
                skip: 1024,
                keep: Some(240_000)
            }
        );
        assert_eq!(cursor.position(), 0, "left at the start for the demuxer");
    }

    #[test]
    fn the_audio_track_is_found_after_a_video_track_and_times_follow_the_sample_rate() {
        // Apple's 2112 priming samples at 44.1 kHz; a decoder that outputs 48 kHz still
        // skips 44 ms.
        let f = file(
            &[
                trak(b"vide", 90_000, Some(elst_v0(&[(5000, 0)]))),
                trak(b"soun", 44_100, Some(elst_v0(&[(0, 2112)]))),
            ],
            600,
        );
        let trim = read_audio_edit(&mut Cursor::new(f))
            .unwrap()
            .in_frames(48_000);
        assert_eq!(trim.skip, 2299);
        assert_eq!(trim.keep, None);
    }

    #[test]
    fn an_empty_edit_first_is_silence_before_the_audio() {
        let f = file(
            &[trak(
                b"soun",
                16_000,
                Some(elst_v0(&[(500, -1), (2000, 0)])),
            )],
            1000,
        );
        let trim = read_audio_edit(&mut Cursor::new(f))
            .unwrap()
            .in_frames(16_000);
        assert_eq!(trim.lead_silence, 8000);
        assert_eq!(trim.skip, 0);
        assert_eq!(trim.keep, Some(32_000));
    }

    #[test]
    fn no_edit_list_or_edits_it_cannot_apply_or_other_formats_change_nothing() {
        let none = file(&[trak(b"soun", 24000, None)], 1000);
        assert_eq!(read_audio_edit(&mut Cursor::new(none)), None);
        let two_media_edits = file(
            &[trak(b"soun", 24000, Some(elst_v0(&[(10, 0), (10, 5000)])))],
            1000,
        );
        assert_eq!(read_audio_edit(&mut Cursor::new(two_media_edits)), None);
        let wav = b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0".to_vec();
        assert_eq!(read_audio_edit(&mut Cursor::new(wav)), None);
        // Cut off inside moov.
        let mut cut = file(&[trak(b"soun", 24000, Some(elst_v0(&[(10, 1024)])))], 1000);
        cut.truncate(cut.len() - 10);
        assert_eq!(read_audio_edit(&mut Cursor::new(cut)), None);
    }
}
