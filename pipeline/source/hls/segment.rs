//! One fetched segment's bytes -> the bytes the decoder reads: decrypted (AES-128-CBC,
//! PKCS#7), and for MPEG-TS the audio elementary stream taken out. ADTS segments lose
//! their leading ID3 tag (HLS puts a timestamp there); fMP4 segments pass as they are,
//! after the init section, so all segments joined up are one continuous stream.

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, KeyIvInit};
use anyhow::{anyhow, bail, Result};

use super::ts::{audio_payload, looks_like_ts};

/// How the segments of a playlist are packaged (from the first one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packaging {
    /// Raw ADTS AAC (`.aac` segments).
    Adts,
    /// MPEG-TS, carrying ADTS AAC or MP3.
    Ts,
    /// Fragmented MP4 (`.m4s` after an EXT-X-MAP init section).
    Fmp4,
}

pub fn decrypt(data: &[u8], key: &[u8; 16], iv: &[u8; 16]) -> Result<Vec<u8>> {
    cbc::Decryptor::<aes::Aes128>::new(key.into(), iv.into())
        .decrypt_padded_vec_mut::<Pkcs7>(data)
        .map_err(|_| anyhow!("the segment does not decrypt with its key (wrong or expired key?)"))
}

/// Recognise the packaging from the first segment's (decrypted) bytes.
pub fn detect(bytes: &[u8], has_init: bool) -> Result<Packaging> {
    if looks_like_ts(bytes) {
        return Ok(Packaging::Ts);
    }
    if has_init || matches!(bytes.get(4..8), Some(b"styp" | b"moof" | b"ftyp" | b"sidx")) {
        return Ok(Packaging::Fmp4);
    }
    let body = skip_id3(bytes);
    if body.len() >= 2 && body[0] == 0xFF && body[1] & 0xF6 == 0xF0 {
        return Ok(Packaging::Adts);
    }
    let start = String::from_utf8_lossy(&bytes[..bytes.len().min(64)]).to_ascii_lowercase();
    if start.trim_start().starts_with('<') {
        bail!("a segment is a web page, not audio");
    }
    bail!("the segments are not audio this program reads (ADTS AAC, MPEG-TS or fMP4)")
}

/// The bytes the decoder reads for one (decrypted) segment.
pub fn elementary(bytes: Vec<u8>, packaging: Packaging) -> Result<Vec<u8>> {
    match packaging {
        Packaging::Ts => Ok(audio_payload(&bytes)?.0),
        Packaging::Adts => Ok(skip_id3(&bytes).to_vec()),
        Packaging::Fmp4 => Ok(bytes),
    }
}

/// The extension the decoder's probe should assume for a playlist's joined segments.
pub fn extension(first: &[u8], packaging: Packaging) -> &'static str {
    match packaging {
        Packaging::Ts => audio_payload(first).map_or("aac", |(_, kind)| kind.extension()),
        Packaging::Adts => "aac",
        Packaging::Fmp4 => "mp4",
    }
}

/// Bytes after any ID3v2 tags at the start.
fn skip_id3(mut bytes: &[u8]) -> &[u8] {
    while bytes.len() >= 10 && &bytes[..3] == b"ID3" {
        let size = bytes[6..10]
            .iter()
            .fold(0usize, |acc, b| (acc << 7) | (*b as usize & 0x7F));
        let footer = if bytes[5] & 0x10 != 0 { 10 } else { 0 };
        let total = 10 + size + footer;
        if total > bytes.len() {
            return &[];
        }
        bytes = &bytes[total..];
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes::cipher::BlockEncryptMut;

    #[test]
    fn aes128_round_trip() {
        let key = [7u8; 16];
        let iv = 5u128.to_be_bytes();
        let plain = b"seventeen bytes!!".to_vec();
        let sealed = cbc::Encryptor::<aes::Aes128>::new(&key.into(), &iv.into())
            .encrypt_padded_vec_mut::<Pkcs7>(&plain);
        assert_eq!(decrypt(&sealed, &key, &iv).unwrap(), plain);
        assert!(
            decrypt(&sealed, &[8u8; 16], &iv).is_err()
                || decrypt(&sealed, &[8u8; 16], &iv).unwrap() != plain
        );
    }

    #[test]
    fn id3_is_skipped_and_adts_recognised() {
        let mut seg = b"ID3\x04\x00\x00\x00\x00\x00\x03abc".to_vec();
        seg.extend_from_slice(&[0xFF, 0xF1, 0x50, 0x80]);
        assert_eq!(detect(&seg, false).unwrap(), Packaging::Adts);
        assert_eq!(
            elementary(seg, Packaging::Adts).unwrap(),
            vec![0xFF, 0xF1, 0x50, 0x80]
        );
        let e = detect(b"<!DOCTYPE html><html>", false).unwrap_err();
        assert!(e.to_string().contains("web page"), "{e}");
    }
}
