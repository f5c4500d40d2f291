//! Ogg Opus in memory back to 48 kHz mono samples, from any point: the pages' granule positions
//! say where each starts, so a seek decodes from the page before the point (Opus needs 80 ms to
//! settle, RFC 7845 §4.6) and skips what comes before it.

use zeroize::Zeroizing;

use crate::encode::RATE;
use crate::ogg::{self, Page};
use crate::AudioError;

/// Samples Opus needs before a seek point to decode it cleanly.
const PREROLL: u64 = 3_840;

/// A recording, decrypted in memory (wiped when dropped), and where its pages are.
pub struct OpusFile {
    data: Zeroizing<Vec<u8>>,
    channels: usize,
    preskip: u64,
    /// (offset, granule at its end, flags) of each audio page.
    index: Vec<(usize, u64, u8)>,
    /// Samples in the whole stream.
    total: u64,
}

impl OpusFile {
    /// Reads the stream's headers and its pages.
    pub fn parse(data: Zeroizing<Vec<u8>>) -> Result<OpusFile, AudioError> {
        let (channels, preskip, index) = {
            let pages = ogg::pages(&data)?;
            let head = pages
                .first()
                .and_then(|p| p.pieces().first().map(|x| x.0))
                .filter(|h| h.len() >= 19 && &h[..8] == b"OpusHead")
                .ok_or_else(|| {
                    AudioError::Format("this is not an Opus recording (no OpusHead)".into())
                })?;
            let serial = pages[0].serial;
            let channels = usize::from(head[9]);
            if !(1..=2).contains(&channels) || head[18] != 0 {
                return Err(AudioError::Format(
                    "only mono and stereo Opus recordings can be played".into(),
                ));
            }
            let preskip = u64::from(u16::from_le_bytes([head[10], head[11]]));
            // Skip the two header packets (OpusHead, OpusTags, which may span pages).
            let mut headers = 0;
            let mut index = Vec::new();
            for p in pages.iter().filter(|p| p.serial == serial) {
                if headers < 2 {
                    headers += p.pieces().iter().filter(|x| x.1).count();
                    continue;
                }
                index.push((p.offset, p.granule, p.flags));
            }
            (channels, preskip, index)
        };
        let total = index
            .iter()
            .rev()
            .map(|x| x.1)
            .find(|&g| g != u64::MAX)
            .unwrap_or(0)
            .saturating_sub(preskip);
        Ok(OpusFile {
            data,
            channels,
            preskip,
            index,
            total,
        })
    }

    /// Length in milliseconds.
    pub fn duration_ms(&self) -> u64 {
        self.total * 1000 / u64::from(RATE)
    }

    /// Length in samples.
    pub fn samples(&self) -> u64 {
        self.total
    }

    /// A decoder positioned at sample `at`.
    pub fn reader_at(&self, at: u64) -> Result<Reader<'_>, AudioError> {
        let at = at.min(self.total);
        // The first page whose audio ends after the preroll point.
        let want = (self.preskip + at).saturating_sub(PREROLL);
        let page = self
            .index
            .iter()
            .position(|&(_, g, _)| g != u64::MAX && g > want)
            .unwrap_or(self.index.len());
        // Its audio starts where the page before it ends.
        let start = if page == 0 {
            0
        } else {
            self.index[..page]
                .iter()
                .rev()
                .map(|x| x.1)
                .find(|&g| g != u64::MAX)
                .unwrap_or(0)
        };
        let decoder = opus::Decoder::new(
            RATE,
            if self.channels == 2 {
                opus::Channels::Stereo
            } else {
                opus::Channels::Mono
            },
        )
        .map_err(|e| AudioError::Codec(e.to_string()))?;
        Ok(Reader {
            file: self,
            decoder,
            page,
            // Samples (with pre-skip) decoded so far; those before `skip_to` are dropped.
            pos: start,
            skip_to: self.preskip + at,
            partial: Vec::new(),
            pcm: Zeroizing::new(vec![0f32; 5760 * self.channels]),
        })
    }
}

/// Decodes a recording forward from a point.
pub struct Reader<'a> {
    file: &'a OpusFile,
    decoder: opus::Decoder,
    page: usize,
    pos: u64,
    skip_to: u64,
    partial: Vec<u8>,
    pcm: Zeroizing<Vec<f32>>,
}

impl Reader<'_> {
    /// The next page's samples (48 kHz mono), appended to `out`; `false` at the end.
    pub fn next_page(&mut self, out: &mut Vec<f32>) -> Result<bool, AudioError> {
        let Some(&(offset, granule, flags)) = self.file.index.get(self.page) else {
            return Ok(false);
        };
        self.page += 1;
        let page: Page<'_> = ogg::page_at(&self.file.data, offset)?;
        if flags & ogg::CONTINUED == 0 {
            self.partial.clear();
        }
        let end = self.file.preskip + self.file.total;
        for (bytes, whole) in page.pieces() {
            self.partial.extend_from_slice(bytes);
            if !whole {
                continue;
            }
            let n = self
                .decoder
                .decode_float(&self.partial, &mut self.pcm, false)
                .map_err(|e| AudioError::Codec(e.to_string()))?;
            self.partial.clear();
            let ch = self.file.channels;
            for i in 0..n {
                let p = self.pos + i as u64;
                if p >= self.skip_to && p < end {
                    let s = if ch == 2 {
                        (self.pcm[2 * i] + self.pcm[2 * i + 1]) / 2.0
                    } else {
                        self.pcm[i]
                    };
                    out.push(s);
                }
            }
            self.pos += n as u64;
        }
        let _ = granule;
        Ok(true)
    }

    /// Every sample from the reader's point to the end.
    pub fn read_all(&mut self) -> Result<Vec<f32>, AudioError> {
        let mut out = Vec::new();
        while self.next_page(&mut out)? {}
        Ok(out)
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.partial);
    }
}
