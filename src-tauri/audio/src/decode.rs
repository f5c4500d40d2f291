//! Ogg Opus in memory back to 48 kHz mono samples, from any point: the pages' granule positions
//! say where each starts, so a seek decodes from the page before the point (Opus needs 80 ms to
//! settle, RFC 7845 §4.6) and skips what comes before it.
//!
//! A recording may come from another organisation's bundle: nothing here trusts the file.
//! Granules that go backwards or claim more audio than the bytes can hold are refused; a packet
//! split across pages is joined (and capped); a damaged packet is skipped, not fatal; only the
//! first logical stream is read, up to its end.

use zeroize::{Zeroize, Zeroizing};

use crate::encode::RATE;
use crate::ogg::{self, Page, BOS, CONTINUED, EOS};
use crate::AudioError;

/// Samples Opus needs before a seek point to decode it cleanly.
const PREROLL: u64 = 3_840;
/// The most one Opus packet decodes to (120 ms).
const MAX_PACKET_SAMPLES: u64 = 5_760;
/// The largest Opus packet joined across pages (a real one is at most about 61 KB).
const MAX_PACKET: usize = 64 << 10;
/// A granule with no packet ending on its page.
const NO_GRANULE: u64 = u64::MAX;
/// The most audio pages indexed: 8 hours at 1 s a page would be 28,800, and a phone's recorder
/// writes a page every few hundred ms. A hostile file of tiny pages stops here, its index at a
/// few MiB, instead of growing to several times the 128 MB the app plays at most.
const MAX_PAGES: usize = 200_000;

/// An audio page: (offset, granule at its end, flags).
type PageRef = (usize, u64, u8);

/// A recording, decrypted in memory (wiped when dropped), and where its pages are.
pub struct OpusFile {
    data: Zeroizing<Vec<u8>>,
    channels: usize,
    preskip: u64,
    /// Each audio page.
    index: Vec<PageRef>,
    /// Samples in the whole stream.
    total: u64,
}

fn bad(why: &str) -> AudioError {
    AudioError::Format(format!("this recording is damaged: {why}"))
}

/// Reads the first stream's headers and indexes its audio pages.
fn index(data: &[u8]) -> Result<(usize, u64, Vec<PageRef>), AudioError> {
    let mut pages = ogg::pages(data)?;
    let first = pages.next().ok_or_else(|| bad("no pages"))?;
    let head = first
        .pieces()
        .first()
        .map(|x| x.0)
        .filter(|h| h.len() >= 19 && &h[..8] == b"OpusHead")
        .ok_or_else(|| AudioError::Format("this is not an Opus recording (no OpusHead)".into()))?;
    let serial = first.serial;
    let channels = usize::from(head[9]);
    if !(1..=2).contains(&channels) || head[18] != 0 {
        return Err(AudioError::Format(
            "only mono and stereo Opus recordings can be played".into(),
        ));
    }
    let preskip = u64::from(u16::from_le_bytes([head[10], head[11]]));
    // The most audio the bytes could hold: every packet at least one lacing byte, at most
    // 120 ms each.
    let ceiling = (data.len() as u64).saturating_mul(MAX_PACKET_SAMPLES) + preskip;
    // Skip the OpusTags header packet (it may span pages), then index the audio pages.
    let mut headers = first.pieces().iter().filter(|x| x.1).count();
    let mut last = 0u64;
    let mut index = Vec::new();
    for p in pages.filter(|p: &Page<'_>| p.serial == serial) {
        if p.flags & BOS != 0 {
            break; // a second stream with the same serial: not this recording
        }
        if headers < 2 {
            headers += p.pieces().iter().filter(|x| x.1).count();
            continue;
        }
        if p.granule != NO_GRANULE {
            if p.granule > ceiling {
                return Err(bad("a page claims more audio than the file holds"));
            }
            // The last page may end earlier than the page before it (end trimming).
            if p.granule < last && p.flags & EOS == 0 {
                return Err(bad("its pages go back in time"));
            }
            last = last.max(p.granule);
        }
        if !p.pieces().is_empty() {
            if index.len() >= MAX_PAGES {
                return Err(bad("it has more pages than any recording Kuager plays"));
            }
            index.push((p.offset, p.granule, p.flags));
        }
        if p.flags & EOS != 0 {
            break;
        }
    }
    Ok((channels, preskip, index))
}

impl OpusFile {
    /// Reads the stream's headers and its pages.
    pub fn parse(data: Zeroizing<Vec<u8>>) -> Result<OpusFile, AudioError> {
        let (channels, preskip, index) = index(&data)?;
        let total = index
            .iter()
            .rev()
            .map(|x| x.1)
            .find(|&g| g != NO_GRANULE)
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
        self.total / u64::from(RATE / 1000)
    }

    /// Length in samples.
    pub fn samples(&self) -> u64 {
        self.total
    }

    /// A decoder positioned at sample `at`.
    pub fn reader_at(&self, at: u64) -> Result<Reader<'_>, AudioError> {
        let at = at.min(self.total);
        // The first page whose audio ends after the preroll point, stepped back past pages that
        // only continue a packet begun earlier.
        let want = (self.preskip + at).saturating_sub(PREROLL);
        let mut page = self
            .index
            .iter()
            .position(|&(_, g, _)| g != NO_GRANULE && g > want)
            .unwrap_or(self.index.len());
        while page > 0 && page < self.index.len() && self.index[page].2 & CONTINUED != 0 {
            page -= 1;
        }
        // Its audio starts where the page before it ends.
        let start = self.index[..page]
            .iter()
            .rev()
            .map(|x| x.1)
            .find(|&g| g != NO_GRANULE)
            .unwrap_or(0);
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
            fresh: true,
            pos: start,
            skip_to: self.preskip + at,
            // Sized once (a growing buffer would leave unwiped copies of what it held).
            partial: Vec::with_capacity(MAX_PACKET),
            pcm: Zeroizing::new(vec![0f32; MAX_PACKET_SAMPLES as usize * self.channels]),
        })
    }
}

/// Decodes a recording forward from a point.
pub struct Reader<'a> {
    file: &'a OpusFile,
    decoder: opus::Decoder,
    page: usize,
    /// No page read yet: a packet continued from before the point is dropped.
    fresh: bool,
    /// Samples (with pre-skip) decoded so far; those before `skip_to` are dropped.
    pos: u64,
    skip_to: u64,
    partial: Vec<u8>,
    pcm: Zeroizing<Vec<f32>>,
}

impl Reader<'_> {
    /// The next page's samples (48 kHz mono), appended to `out`; `false` at the end.
    pub fn next_page(&mut self, out: &mut Vec<f32>) -> Result<bool, AudioError> {
        let Some(&(offset, _, flags)) = self.file.index.get(self.page) else {
            return Ok(false);
        };
        self.page += 1;
        let page: Page<'_> = ogg::page_at(&self.file.data, offset)?;
        let mut pieces = page.pieces().into_iter();
        if flags & CONTINUED == 0 {
            self.partial.zeroize();
        } else if self.fresh {
            // The end of a packet whose start is before this page: not decodable on its own.
            pieces.next();
        }
        self.fresh = false;
        let end = self.file.preskip + self.file.total;
        for (bytes, whole) in pieces {
            if self.partial.len() + bytes.len() > MAX_PACKET {
                self.partial.zeroize();
                continue;
            }
            self.partial.extend_from_slice(bytes);
            if !whole {
                continue;
            }
            // A packet is at least one byte (RFC 6716 §3.4, R1); a damaged one is skipped.
            let decoded = if self.partial.is_empty() {
                None
            } else {
                self.decoder
                    .decode_float(&self.partial, &mut self.pcm, false)
                    .ok()
            };
            self.partial.zeroize();
            let Some(n) = decoded else { continue };
            let ch = self.file.channels;
            for i in 0..n {
                let p = self.pos.saturating_add(i as u64);
                if p >= self.skip_to && p < end {
                    let s = if ch == 2 {
                        (self.pcm[2 * i] + self.pcm[2 * i + 1]) / 2.0
                    } else {
                        self.pcm[i]
                    };
                    out.push(s);
                }
            }
            self.pos = self.pos.saturating_add(n as u64);
        }
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
        self.partial.zeroize();
    }
}

#[cfg(test)]
mod tests {
    //! Hostile recordings: refused or played as far as they go, never a panic or a hang.
    use super::*;
    use crate::ogg::write_page;

    fn head(out: &mut Vec<u8>, preskip: u16) {
        let mut h = b"OpusHead".to_vec();
        h.push(1);
        h.push(1);
        h.extend_from_slice(&preskip.to_le_bytes());
        h.extend_from_slice(&48_000u32.to_le_bytes());
        h.extend_from_slice(&[0, 0, 0]);
        write_page(out, 7, 0, 0, BOS, &[&h]);
        write_page(out, 7, 1, 0, 0, &[b"OpusTags\0\0\0\0\0\0\0\0"]);
    }

    /// A real 20 ms packet of silence.
    fn packet() -> Vec<u8> {
        let mut e =
            opus::Encoder::new(48_000, opus::Channels::Mono, opus::Application::Voip).unwrap();
        e.encode_vec_float(&[0.0; 960], 400).unwrap()
    }

    fn parse(b: Vec<u8>) -> Result<OpusFile, AudioError> {
        OpusFile::parse(Zeroizing::new(b))
    }

    #[test]
    fn granules_that_claim_too_much_or_go_back_are_refused() {
        let p = packet();
        let mut b = Vec::new();
        head(&mut b, 0);
        write_page(&mut b, 7, 2, u64::MAX - 1, 0, &[&p]);
        assert!(parse(b).is_err());
        let mut b = Vec::new();
        head(&mut b, 0);
        write_page(&mut b, 7, 2, 9_600, 0, &[&p]);
        write_page(&mut b, 7, 3, 960, 0, &[&p]);
        assert!(parse(b).is_err());
    }

    #[test]
    fn empty_packets_decode_to_nothing_and_a_seek_past_the_end_is_the_end() {
        let mut b = Vec::new();
        head(&mut b, 0);
        let empties: Vec<&[u8]> = vec![&[]; 255];
        write_page(&mut b, 7, 2, 960, 0, &empties);
        write_page(&mut b, 7, 3, 1_920, EOS, &[&packet()]);
        let f = parse(b).unwrap();
        let all = f.reader_at(0).unwrap().read_all().unwrap();
        assert!(
            all.len() <= 1_920,
            "{} samples from 255 empty packets",
            all.len()
        );
        assert!(f
            .reader_at(u64::MAX)
            .unwrap()
            .read_all()
            .unwrap()
            .is_empty());
        assert_eq!(f.duration_ms(), 40);
    }

    #[test]
    fn a_packet_split_across_pages_is_joined_even_when_reading_starts_at_its_second_half() {
        // A packet longer than 255 bytes (a high bitrate), its first 510 bytes on one page.
        let mut e =
            opus::Encoder::new(48_000, opus::Channels::Mono, opus::Application::Audio).unwrap();
        e.set_bitrate(opus::Bitrate::Bits(400_000)).unwrap();
        let noise: Vec<f32> = (0..960)
            .map(|i| ((i * 7919) % 200) as f32 / 100.0 - 1.0)
            .collect();
        let p1 = e.encode_vec_float(&noise, 1500).unwrap();
        assert!(p1.len() > 510, "{}", p1.len());
        let p2 = packet();
        let mut b = Vec::new();
        head(&mut b, 0);
        crate::ogg::write_raw_page(&mut b, 7, 2, u64::MAX, 0, &[255, 255], &p1[..510]);
        let rest = &p1[510..];
        let lace = |n: usize| {
            let mut v = vec![255u8; n / 255];
            v.push(u8::try_from(n % 255).unwrap());
            v
        };
        let lacing = [lace(rest.len()), lace(p2.len())].concat();
        let body = [rest, &p2[..]].concat();
        crate::ogg::write_raw_page(&mut b, 7, 3, 1_920, CONTINUED | EOS, &lacing, &body);
        let f = parse(b).unwrap();
        // The first page with a granule is the continued one: reading steps back a page.
        assert_eq!(f.reader_at(0).unwrap().read_all().unwrap().len(), 1_920);
    }

    #[test]
    fn not_opus_or_cut_short_is_an_error_not_a_panic() {
        assert!(parse(Vec::new()).is_err());
        assert!(parse(b"OggS".to_vec()).is_err());
        let mut b = Vec::new();
        head(&mut b, 400);
        write_page(&mut b, 7, 2, 960, 0, &[&packet()]);
        let cut = b[..b.len() - 3].to_vec();
        let f = parse(cut).unwrap();
        assert_eq!(f.samples(), 0, "the damaged last page is not counted");
    }
}
