//! A seekable view of a one-way byte stream (standard input, an HTTP body): what has been
//! read is kept in a temporary file, so the decoder can seek back within it, and a seek
//! forward reads on. Formats that decode front to back (wav, mp3, flac, ADTS, ogg) are
//! therefore streamed; an MP4 whose index sits at the end is read to its end first, as
//! it has to be.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex};

use symphonia::core::io::MediaSource;

pub struct Spool<R: Read> {
    inner: R,
    /// Everything read from `inner` so far.
    kept: File,
    kept_len: u64,
    pos: u64,
    inner_done: bool,
    /// Length when the sender announced it (Content-Length).
    announced_len: Option<u64>,
}

impl<R: Read> Spool<R> {
    pub fn new(inner: R, announced_len: Option<u64>) -> io::Result<Self> {
        Ok(Self {
            inner,
            kept: tempfile::tempfile()?,
            kept_len: 0,
            pos: 0,
            inner_done: false,
            announced_len,
        })
    }

    /// Read more of the stream into the spool; false at its end.
    fn read_more(&mut self) -> io::Result<bool> {
        if self.inner_done {
            return Ok(false);
        }
        let mut buf = [0u8; 64 * 1024];
        let n = loop {
            match self.inner.read(&mut buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if n == 0 {
            self.inner_done = true;
            return Ok(false);
        }
        self.kept.seek(SeekFrom::Start(self.kept_len))?;
        self.kept.write_all(&buf[..n])?;
        self.kept_len += n as u64;
        Ok(true)
    }
}

impl<R: Read> Read for Spool<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.kept_len {
            if !self.read_more()? {
                return Ok(0);
            }
        }
        self.kept.seek(SeekFrom::Start(self.pos))?;
        let want = out.len().min((self.kept_len - self.pos) as usize);
        let n = self.kept.read(&mut out[..want])?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read> Seek for Spool<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => p as i64,
            SeekFrom::Current(d) => self.pos as i64 + d,
            SeekFrom::End(d) => {
                while self.read_more()? {}
                self.kept_len as i64 + d
            }
        };
        if target < 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start",
            ));
        }
        while (target as u64) > self.kept_len && self.read_more()? {}
        self.pos = target as u64;
        Ok(self.pos)
    }
}

impl<R: Read + Send + Sync> MediaSource for Spool<R> {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        if self.inner_done {
            Some(self.kept_len)
        } else {
            self.announced_len
        }
    }
}

/// One spool read by two owners in turn: symphonia first and, when it has no decoder for
/// the stream, ffmpeg from the first byte again (everything read is kept).
pub struct SharedSpool<R: Read>(Arc<Mutex<Spool<R>>>);

impl<R: Read> SharedSpool<R> {
    pub fn new(spool: Spool<R>) -> Self {
        Self(Arc::new(Mutex::new(spool)))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Spool<R>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<R: Read> Clone for SharedSpool<R> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<R: Read> Read for SharedSpool<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.lock().read(out)
    }
}

impl<R: Read> Seek for SharedSpool<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.lock().seek(to)
    }
}

impl<R: Read + Send + Sync> MediaSource for SharedSpool<R> {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        self.lock().byte_len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_seeks_back_and_forward() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut s = Spool::new(io::Cursor::new(data.clone()), None).unwrap();
        let mut head = [0u8; 10];
        s.read_exact(&mut head).unwrap();
        assert_eq!(&head, &data[..10]);
        assert_eq!(s.seek(SeekFrom::Start(150_000)).unwrap(), 150_000);
        s.read_exact(&mut head).unwrap();
        assert_eq!(&head, &data[150_000..150_010]);
        assert_eq!(s.seek(SeekFrom::Start(3)).unwrap(), 3);
        s.read_exact(&mut head).unwrap();
        assert_eq!(&head, &data[3..13]);
        assert_eq!(s.seek(SeekFrom::End(-5)).unwrap(), 199_995);
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, &data[199_995..]);
        assert_eq!(s.byte_len(), Some(200_000));
    }
}
