//! Recording and playing (src/recording.rs): what the page is told; never audio.

use serde::Serialize;
use ts_rs::TS;

/// A microphone.
#[derive(Debug, Clone, Serialize, TS)]
pub struct InputDto {
    /// What to ask for it by.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The system's default.
    pub default: bool,
}

/// The recording running.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RecordingStatusDto {
    /// The testimony it belongs to.
    pub record: String,
    /// The microphone.
    pub input: String,
    /// Milliseconds recorded (pauses not counted).
    #[ts(type = "number")]
    pub elapsed_ms: u64,
    /// Loudest sound lately, 0 to 1.
    pub level: f32,
    /// Paused.
    pub paused: bool,
    /// Milliseconds the computer was too busy to keep.
    #[ts(type = "number")]
    pub dropped_ms: u64,
    /// Markers set.
    pub markers: u32,
    /// Why it stopped by itself (the microphone was unplugged): what was recorded is kept.
    pub failed: Option<String>,
}

/// A recording a crash, a kill or a lock interrupted, waiting to be saved or discarded.
#[derive(Debug, Clone, Serialize, TS)]
pub struct InterruptedDto {
    /// Its id.
    pub id: String,
    /// The testimony it belongs to.
    pub record: String,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// How long it is.
    #[ts(type = "number")]
    pub duration_ms: u64,
    /// Markers set.
    #[ts(type = "number")]
    pub markers: usize,
}

impl From<vault::RecordingInfo> for InterruptedDto {
    fn from(r: vault::RecordingInfo) -> Self {
        InterruptedDto {
            id: r.id,
            record: r.record.to_string(),
            started_at: r.started_at,
            duration_ms: r.duration_ms,
            markers: r.markers,
        }
    }
}

/// The recording open for playing.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PlayerDto {
    /// Its SHA-256.
    pub blob: String,
    /// Where the speakers are, ms.
    #[ts(type = "number")]
    pub position_ms: u64,
    /// Its length, ms.
    #[ts(type = "number")]
    pub duration_ms: u64,
    /// Playing.
    pub playing: bool,
    /// Rate (1: as recorded).
    pub rate: f64,
    /// From the last seek asked to its sound handed to the speakers, ms.
    #[ts(type = "number | null")]
    pub last_seek_ms: Option<u64>,
}
