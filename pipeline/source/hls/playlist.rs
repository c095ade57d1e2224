//! HLS playlists (m3u8-rs) turned into what following a stream needs: for a master
//! playlist, the audio rendition to follow; for a media playlist, its segments with
//! absolute media-sequence numbers, absolute URLs, and the key and init section each one
//! uses (EXT-X-KEY and EXT-X-MAP apply to every segment after them until replaced).

use anyhow::{anyhow, bail, Result};
use m3u8_rs::{AlternativeMediaType, KeyMethod, Playlist};

use crate::source::http::join;

/// AES-128 key of a segment: where to fetch it and the IV to use.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentKey {
    pub url: String,
    pub iv: [u8; 16],
}

#[derive(Debug, Clone, PartialEq)]
pub struct SegmentRef {
    pub seq: u64,
    pub url: String,
    /// Seconds, as EXTINF says.
    pub duration: f64,
    pub key: Option<SegmentKey>,
    /// The fMP4 init section (EXT-X-MAP), when the segments need one.
    pub init: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MediaList {
    pub target_duration: f64,
    pub first_seq: u64,
    pub segments: Vec<SegmentRef>,
    /// EXT-X-ENDLIST: nothing more will be added.
    pub ended: bool,
}

pub enum Parsed {
    /// A master playlist: the URL of the media playlist to follow.
    Master(String),
    Media(MediaList),
}

/// Parse a playlist fetched from `url`.
pub fn parse(bytes: &[u8], url: &str) -> Result<Parsed> {
    let text_start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    if !bytes[text_start..].starts_with(b"#EXTM3U") {
        bail!("{url}: not an HLS playlist (no #EXTM3U header)");
    }
    let patched = allow_key_method_none(bytes);
    match m3u8_rs::parse_playlist_res(&patched) {
        Ok(Playlist::MasterPlaylist(master)) => {
            // An audio rendition of its own (EXT-X-MEDIA TYPE=AUDIO), default first; else
            // the leanest variant (for an audio-only Space, the only one).
            let mut audio: Vec<_> = master
                .alternatives
                .iter()
                .filter(|m| m.media_type == AlternativeMediaType::Audio && m.uri.is_some())
                .collect();
            audio.sort_by_key(|m| !m.default);
            if let Some(m) = audio.first() {
                return Ok(Parsed::Master(join(url, m.uri.as_deref().unwrap_or(""))));
            }
            let variant = master
                .variants
                .iter()
                .filter(|v| !v.is_i_frame)
                .filter(|v| {
                    v.codecs
                        .as_deref()
                        .is_none_or(|c| c.contains("mp4a") || c.contains("mp3"))
                })
                .min_by_key(|v| v.bandwidth)
                .ok_or_else(|| anyhow!("{url}: the playlist offers no audio stream"))?;
            Ok(Parsed::Master(join(url, &variant.uri)))
        }
        Ok(Playlist::MediaPlaylist(media)) => {
            let mut key: Option<m3u8_rs::Key> = None;
            let mut init: Option<String> = None;
            let mut segments = Vec::with_capacity(media.segments.len());
            for (i, seg) in media.segments.iter().enumerate() {
                let seq = media.media_sequence + i as u64;
                if let Some(k) = &seg.key {
                    key = Some(k.clone());
                }
                if let Some(m) = &seg.map {
                    init = Some(join(url, &m.uri));
                }
                let key = match &key {
                    None => None,
                    Some(k) => match &k.method {
                        KeyMethod::None => None,
                        KeyMethod::AES128 => Some(SegmentKey {
                            url: join(
                                url,
                                k.uri.as_deref().ok_or_else(|| {
                                    anyhow!("{url}: an AES-128 key has no URI")
                                })?,
                            ),
                            iv: match &k.iv {
                                Some(iv) => parse_iv(iv)
                                    .ok_or_else(|| anyhow!("{url}: bad key IV {iv}"))?,
                                None => (seq as u128).to_be_bytes(),
                            },
                        }),
                        other => bail!(
                            "{url}: segments are encrypted with {other:?}, which is not supported (AES-128 is)"
                        ),
                    },
                };
                segments.push(SegmentRef {
                    seq,
                    url: join(url, &seg.uri),
                    duration: seg.duration as f64,
                    key,
                    init: init.clone(),
                });
            }
            Ok(Parsed::Media(MediaList {
                target_duration: media.target_duration as f64,
                first_seq: media.media_sequence,
                segments,
                ended: media.end_list,
            }))
        }
        Err(_) => bail!("{url}: the HLS playlist cannot be read"),
    }
}

/// m3u8-rs 6.0.1 rejects `#EXT-X-KEY:METHOD=NONE` unless it carries an IV (the check is
/// inverted), and then drops the tag, so the previous key would wrongly carry on. An IV
/// on a NONE key means nothing, so adding one is harmless.
fn allow_key_method_none(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let text = String::from_utf8_lossy(bytes);
    if !text.contains("METHOD=NONE") {
        return std::borrow::Cow::Borrowed(bytes);
    }
    let fixed: String = text
        .lines()
        .map(|l| {
            if l.starts_with("#EXT-X-KEY:") && l.contains("METHOD=NONE") && !l.contains("IV=") {
                format!("{l},IV=0x00000000000000000000000000000000\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::borrow::Cow::Owned(fixed.into_bytes())
}

/// `0x00112233...` (32 hex digits) as 16 bytes.
fn parse_iv(text: &str) -> Option<[u8; 16]> {
    let hex = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))?;
    let value = u128::from_str_radix(hex, 16).ok()?;
    Some(value.to_be_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "http://h/s/index.m3u8";

    fn media(text: &str) -> MediaList {
        match parse(text.as_bytes(), BASE).unwrap() {
            Parsed::Media(m) => m,
            Parsed::Master(_) => panic!("master"),
        }
    }

    #[test]
    fn keys_and_maps_carry_over_and_sequence_numbers_are_absolute() {
        let m = media(
            "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:7\n\
             #EXT-X-MAP:URI=\"init.mp4\"\n\
             #EXT-X-KEY:METHOD=AES-128,URI=\"k1\"\n#EXTINF:4.0,\na.m4s\n#EXTINF:3.5,\nb.m4s\n\
             #EXT-X-KEY:METHOD=AES-128,URI=\"/k2\",IV=0x000102030405060708090a0b0c0d0e0f\n#EXTINF:4,\nc.m4s\n\
             #EXT-X-KEY:METHOD=NONE\n#EXTINF:4,\nd.m4s\n#EXT-X-ENDLIST\n",
        );
        assert_eq!(m.first_seq, 7);
        assert!(m.ended);
        assert_eq!(m.target_duration, 4.0);
        let seqs: Vec<u64> = m.segments.iter().map(|s| s.seq).collect();
        assert_eq!(seqs, vec![7, 8, 9, 10]);
        assert_eq!(m.segments[1].url, "http://h/s/b.m4s");
        assert_eq!(m.segments[1].duration, 3.5);
        let k = m.segments[1].key.as_ref().unwrap();
        assert_eq!(k.url, "http://h/s/k1");
        assert_eq!(k.iv, 8u128.to_be_bytes());
        let k = m.segments[2].key.as_ref().unwrap();
        assert_eq!(k.url, "http://h/k2");
        assert_eq!(k.iv[15], 0x0f);
        assert_eq!(m.segments[3].key, None);
        assert!(m
            .segments
            .iter()
            .all(|s| s.init.as_deref() == Some("http://h/s/init.mp4")));
    }

    #[test]
    fn master_picks_audio() {
        let text = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=200000,CODECS=\"mp4a.40.2\"\nhi/a.m3u8\n\
                    #EXT-X-STREAM-INF:BANDWIDTH=64000,CODECS=\"mp4a.40.2\"\nlo/a.m3u8\n";
        match parse(text.as_bytes(), BASE).unwrap() {
            Parsed::Master(u) => assert_eq!(u, "http://h/s/lo/a.m3u8"),
            Parsed::Media(_) => panic!("media"),
        }
        let text = "#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"en\",DEFAULT=YES,URI=\"aud.m3u8\"\n\
                    #EXT-X-STREAM-INF:BANDWIDTH=900000,CODECS=\"avc1.4d401f,mp4a.40.2\",AUDIO=\"a\"\nv.m3u8\n";
        match parse(text.as_bytes(), BASE).unwrap() {
            Parsed::Master(u) => assert_eq!(u, "http://h/s/aud.m3u8"),
            Parsed::Media(_) => panic!("media"),
        }
    }

    #[test]
    fn html_is_not_a_playlist() {
        let e = parse(b"<!doctype html><html>", BASE).err().unwrap();
        assert!(e.to_string().contains("not an HLS playlist"), "{e}");
    }
}
