//! `kuager-audio`: recordings made and played without a file. The microphone's samples are
//! encoded to Opus in Ogg in memory and handed over in pieces of a few seconds for the vault to
//! encrypt ([`Recorder`]); a recording decrypted into memory is decoded and played to the
//! speakers, slower or faster without a change of pitch ([`Player`]). The webview never holds
//! the audio; nothing here touches the disk (docs/design-notes.md "Recordings").
//!
//! Layers: `ogg` (pages) → `encode`, `decode` (Opus in Ogg) → `stretch` (WSOLA) → `device`
//! (cpal) → `recorder`, `player`.

mod decode;
mod device;
mod encode;
mod ogg;
mod player;
mod recorder;
mod stretch;

pub use decode::{OpusFile, Reader};
pub use device::{inputs, Input};
pub use encode::{Encoder, BITRATE, FRAME, RATE};
pub use player::{PlayStatus, Player};
pub use recorder::{Piece, Recorder, Source, Status, PIECE_MS};
pub use stretch::Stretch;

/// Why recording or playing failed, in words for the person at the computer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AudioError {
    /// The microphone or speakers.
    #[error("{0}")]
    Device(String),
    /// The codec.
    #[error("the audio could not be encoded or decoded: {0}")]
    Codec(String),
    /// A recording that is not Ogg Opus, or is damaged.
    #[error("{0}")]
    Format(String),
}
