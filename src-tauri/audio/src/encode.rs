//! PCM to Ogg Opus (RFC 7845), in memory: 48 kHz mono, 20 ms frames, speech mode, variable
//! bitrate around [`BITRATE`]. Pages of at most a second; the caller takes the whole pages
//! written so far as a piece ([`Encoder::take`]), so a piece always ends on a page.

use zeroize::Zeroizing;

use crate::ogg::{self, BOS, EOS};
use crate::AudioError;

/// Samples per second (Opus's own rate; granule positions count these).
pub const RATE: u32 = 48_000;
/// Samples per frame (20 ms).
pub const FRAME: usize = 960;
/// Target bitrate, bits per second: speech at about 11 MB an hour.
pub const BITRATE: i32 = 24_000;
/// Frames per page (one second).
const PAGE_FRAMES: usize = 50;

/// An Ogg Opus stream being written.
pub struct Encoder {
    enc: opus::Encoder,
    serial: u32,
    seq: u32,
    preskip: u16,
    /// Samples waiting for a whole frame.
    frame: Zeroizing<Vec<f32>>,
    /// Packets of the page being filled.
    packets: Vec<Zeroizing<Vec<u8>>>,
    lacing: usize,
    /// Frames encoded so far.
    frames: u64,
    /// Whole pages not yet taken.
    out: Zeroizing<Vec<u8>>,
}

fn codec(e: opus::Error) -> AudioError {
    AudioError::Codec(e.to_string())
}

impl Encoder {
    /// A new stream; `serial` tells it apart from others (any number).
    pub fn new(serial: u32) -> Result<Encoder, AudioError> {
        let mut enc = opus::Encoder::new(RATE, opus::Channels::Mono, opus::Application::Voip)
            .map_err(codec)?;
        enc.set_bitrate(opus::Bitrate::Bits(BITRATE))
            .map_err(codec)?;
        enc.set_vbr(true).map_err(codec)?;
        let preskip = u16::try_from(enc.get_lookahead().map_err(codec)?).unwrap_or(312);
        let mut e = Encoder {
            enc,
            serial,
            seq: 0,
            preskip,
            frame: Zeroizing::new(Vec::with_capacity(FRAME)),
            packets: Vec::new(),
            lacing: 0,
            frames: 0,
            out: Zeroizing::new(Vec::new()),
        };
        e.headers();
        Ok(e)
    }

    fn headers(&mut self) {
        let mut head = Vec::with_capacity(19);
        head.extend_from_slice(b"OpusHead");
        head.push(1); // version
        head.push(1); // channels
        head.extend_from_slice(&self.preskip.to_le_bytes());
        head.extend_from_slice(&RATE.to_le_bytes());
        head.extend_from_slice(&0i16.to_le_bytes()); // output gain
        head.push(0); // mapping family: mono or stereo
        ogg::write_page(&mut self.out, self.serial, 0, 0, BOS, &[&head]);
        let vendor = b"Kuager";
        let mut tags = Vec::new();
        tags.extend_from_slice(b"OpusTags");
        tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
        tags.extend_from_slice(vendor);
        tags.extend_from_slice(&0u32.to_le_bytes());
        ogg::write_page(&mut self.out, self.serial, 1, 0, 0, &[&tags]);
        self.seq = 2;
    }

    /// Encodes `pcm` (48 kHz mono, -1.0..1.0).
    pub fn push(&mut self, pcm: &[f32]) -> Result<(), AudioError> {
        let mut rest = pcm;
        while !rest.is_empty() {
            let n = (FRAME - self.frame.len()).min(rest.len());
            self.frame.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            if self.frame.len() == FRAME {
                self.encode_frame()?;
            }
        }
        Ok(())
    }

    fn encode_frame(&mut self) -> Result<(), AudioError> {
        let mut packet = Zeroizing::new(vec![0u8; 1500]);
        let n = self
            .enc
            .encode_float(&self.frame, &mut packet)
            .map_err(codec)?;
        packet.truncate(n);
        self.frame.clear();
        // A full page is written when the next packet comes, never right after its last one:
        // so the stream's last page always holds the last packets, and its granule (trimmed
        // to the audio received) never goes below the page before it.
        if self.packets.len() >= PAGE_FRAMES || self.lacing + ogg::lacing_len(n) > 255 {
            self.flush_page(0);
        }
        self.frames += 1;
        self.lacing += ogg::lacing_len(n);
        self.packets.push(packet);
        Ok(())
    }

    /// Samples a decoder gives by the end of the frames so far (pre-skip included: RFC 7845
    /// §4).
    fn granule(&self) -> u64 {
        self.frames * FRAME as u64
    }

    fn flush_page(&mut self, flags: u8) {
        if self.packets.is_empty() && flags & EOS == 0 {
            return;
        }
        let granule = self.granule();
        let refs: Vec<&[u8]> = self.packets.iter().map(|p| p.as_slice()).collect();
        ogg::write_page(&mut self.out, self.serial, self.seq, granule, flags, &refs);
        self.seq += 1;
        self.packets.clear();
        self.lacing = 0;
    }

    /// Milliseconds of audio encoded so far.
    pub fn encoded_ms(&self) -> u64 {
        self.frames * FRAME as u64 * 1000 / u64::from(RATE)
    }

    /// Milliseconds of audio received so far (encoded, and waiting for a whole frame).
    pub fn received_ms(&self) -> u64 {
        (self.frames * FRAME as u64 + self.frame.len() as u64) * 1000 / u64::from(RATE)
    }

    /// Ends the page being filled and takes every whole page written so far, with the time
    /// they reach (ms). `None` when there is nothing new.
    pub fn take(&mut self) -> Option<(Zeroizing<Vec<u8>>, u64)> {
        self.flush_page(0);
        if self.out.is_empty() {
            return None;
        }
        let bytes = std::mem::replace(&mut self.out, Zeroizing::new(Vec::new()));
        Some((bytes, self.encoded_ms()))
    }

    /// Ends the stream: the last frame padded with silence, the last page marked, its granule
    /// trimmed to the audio received. Returns what [`Encoder::take`] has not yet taken.
    pub fn finish(mut self) -> Result<(Zeroizing<Vec<u8>>, u64), AudioError> {
        let real = self.frames * FRAME as u64 + self.frame.len() as u64;
        // The encoder's look-ahead (the pre-skip) still holds the last samples: silence pushes
        // them out. The last page carries at least one packet; what decodes beyond `real` is
        // trimmed by its granule position (RFC 7845 §4.4).
        let want = real + u64::from(self.preskip);
        while !self.frame.is_empty() || self.packets.is_empty() || self.granule() < want {
            self.frame.resize(FRAME, 0.0);
            self.encode_frame()?;
        }
        let refs: Vec<&[u8]> = self.packets.iter().map(|p| p.as_slice()).collect();
        let end = u64::from(self.preskip) + real;
        ogg::write_page(&mut self.out, self.serial, self.seq, end, EOS, &refs);
        let ms = real * 1000 / u64::from(RATE);
        let bytes = std::mem::replace(&mut self.out, Zeroizing::new(Vec::new()));
        Ok((bytes, ms))
    }
}
