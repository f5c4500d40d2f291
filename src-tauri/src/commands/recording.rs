//! Recording an interview into the vault and playing a recording back, from the page (src/
//! recording.rs does the work; docs/design-notes.md "Recordings").

use tauri::{AppHandle, Manager, State};

use super::{record_id, short};
use crate::dto::{InputDto, InterruptedDto, PlayerDto, RecordingStatusDto, SavedDto};
use crate::error::{CmdResult, ErrorCode, IpcError};
use crate::state::AppState;

/// The microphones this computer offers, the default first.
#[tauri::command]
pub async fn audio_inputs() -> CmdResult<Vec<InputDto>> {
    let list = crate::state::blocking(kuager_audio::inputs)
        .map_err(|e| IpcError::new(ErrorCode::Io, e.to_string()))?;
    Ok(list
        .into_iter()
        .map(|i| InputDto {
            id: i.id,
            name: i.name,
            default: i.default,
        })
        .collect())
}

/// Starts recording for testimony `record` from microphone `input` (None: the default).
#[tauri::command]
pub async fn recording_start(
    app: AppHandle,
    record: String,
    input: Option<String>,
) -> CmdResult<()> {
    let id = record_id(&record)?;
    let input = input.map(|i| short(&i, "microphone")).transpose()?;
    let state = app.state::<AppState>();
    crate::state::blocking(|| state.audio.start(&app, id, input))
}

/// The recording running, if any.
#[tauri::command]
pub async fn recording_status(state: State<'_, AppState>) -> CmdResult<Option<RecordingStatusDto>> {
    Ok(state.audio.status().map(|(l, s)| RecordingStatusDto {
        record: l.record.to_string(),
        input: l.input,
        elapsed_ms: s.elapsed_ms,
        level: s.level.clamp(0.0, 1.0),
        paused: s.paused,
        dropped_ms: s.dropped_ms,
        markers: l.markers,
        failed: l.failed,
    }))
}

/// Pauses (`true`) or resumes the recording.
#[tauri::command]
pub async fn recording_pause(state: State<'_, AppState>, paused: bool) -> CmdResult<()> {
    state.touch();
    state.audio.pause(paused)
}

/// Sets a marker now, with an optional note; returns where it landed (ms).
#[tauri::command]
pub async fn recording_mark(state: State<'_, AppState>, note: Option<String>) -> CmdResult<u64> {
    let note = note
        .map(|n| short(&n, "note"))
        .transpose()?
        .filter(|n| !n.is_empty());
    if note
        .as_ref()
        .is_some_and(|n| n.chars().count() > vault::model::MAX_MARKER_NOTE)
    {
        return Err(IpcError::new(
            ErrorCode::Invalid,
            "a marker's note is at most 200 characters",
        ));
    }
    state.touch();
    state.audio.mark(note)
}

/// Stops the recording, stores what is left and saves it as an attachment of its testimony.
#[tauri::command]
pub async fn recording_stop(app: AppHandle) -> CmdResult<SavedDto> {
    let state = app.state::<AppState>();
    state.touch();
    let stopped = crate::state::blocking(|| state.audio.stop_and_save(&state));
    let Some((written, saved)) = stopped else {
        return Err(IpcError::new(
            ErrorCode::NotFound,
            "nothing is being recorded",
        ));
    };
    if let Err(e) = written {
        // What was stored is saved (or offered at the next unlock); say what went wrong.
        if saved.is_err() {
            return Err(IpcError::new(ErrorCode::Io, e));
        }
    }
    Ok(saved?.into())
}

/// Recordings a crash, a kill or a lock interrupted (not the one running).
#[tauri::command]
pub async fn recordings_interrupted(state: State<'_, AppState>) -> CmdResult<Vec<InterruptedDto>> {
    let running = state.audio.status().map(|(l, _)| l.id);
    let list = state.with_vault(|v| v.recordings())?;
    Ok(list
        .into_iter()
        .filter(|r| Some(&r.id) != running.as_ref())
        .map(Into::into)
        .collect())
}

fn interrupted_id(state: &AppState, id: &str) -> CmdResult<String> {
    let id = short(id, "recording id")?;
    if state.audio.status().is_some_and(|(l, _)| l.id == id) {
        return Err(IpcError::new(
            ErrorCode::Busy,
            "this recording is running: stop it instead",
        ));
    }
    Ok(id)
}

/// Saves an interrupted recording as far as it went.
#[tauri::command]
pub async fn recording_save(state: State<'_, AppState>, id: String) -> CmdResult<SavedDto> {
    let id = interrupted_id(&state, &id)?;
    Ok(state.with_vault(|v| v.recording_finish(&id))?.into())
}

/// Discards an interrupted recording for good.
#[tauri::command]
pub async fn recording_discard(state: State<'_, AppState>, id: String) -> CmdResult<()> {
    let id = interrupted_id(&state, &id)?;
    state.with_vault(|v| v.recording_discard(&id))
}

/// The largest recording played here (about 6 hours at Kuager's bitrate; 45 minutes of a
/// phone's 128 kb/s): the whole file is held in memory while it plays.
const MAX_PLAYED: u64 = 128 << 20;

fn player_dto(blob: &str, p: &kuager_audio::Player) -> PlayerDto {
    let s = p.status();
    PlayerDto {
        blob: blob.to_owned(),
        position_ms: s.position_ms,
        duration_ms: s.duration_ms,
        playing: s.playing,
        rate: s.rate,
        last_seek_ms: s.last_seek_ms,
    }
}

/// Opens attachment `blob` (an Opus recording) for playing, paused at the start.
#[tauri::command]
pub async fn player_open(state: State<'_, AppState>, blob: String) -> CmdResult<PlayerDto> {
    let blob = short(&blob, "attachment")?;
    if blob.len() != 64 || !blob.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(IpcError::new(ErrorCode::Invalid, "not an attachment"));
    }
    state.audio.close_player();
    let locks = state.locks();
    let bytes = state.with_vault(|v| {
        let size = v.attachment_size(&blob)?;
        if size > MAX_PLAYED {
            return Err(vault::Error::Invalid {
                field: String::new(),
                message:
                    "this recording is too large to play here: export it and play it elsewhere"
                        .into(),
            });
        }
        let mut r = v.open_attachment(&blob)?;
        // Sized once: a growing buffer would leave unwiped copies behind.
        let mut out = zeroize::Zeroizing::new(Vec::with_capacity(size as usize));
        std::io::Read::read_to_end(&mut std::io::Read::take(&mut r, size), &mut out).map_err(
            |source| vault::Error::Io {
                context: "reading the recording".into(),
                source,
            },
        )?;
        Ok(out)
    })?;
    let player = crate::state::blocking(|| kuager_audio::Player::open(bytes))
        .map_err(|e| IpcError::new(ErrorCode::Invalid, e.to_string()))?;
    let dto = player_dto(&blob, &player);
    // Checked while holding the player's place: a lock that comes after finds it and closes
    // it, one that came before is seen here.
    let mut open = state.audio.player.lock().unwrap_or_else(|p| p.into_inner());
    if state.locks() != locks || state.lock_is_pending() {
        // Locked while it opened: nothing of it is kept.
        drop(player);
        return Err(vault::Error::Locked.into());
    }
    *open = Some((blob, player));
    Ok(dto)
}

/// Plays, pauses, seeks (`seek`, ms) or sets the rate (`rate`, 0.5 to 2) of the open recording.
#[tauri::command]
pub async fn player_control(
    state: State<'_, AppState>,
    action: String,
    value: Option<f64>,
) -> CmdResult<PlayerDto> {
    if state.lock_is_pending() {
        state.audio.close_player();
        return Err(vault::Error::Locked.into());
    }
    state.touch();
    let guard = state.audio.player.lock().unwrap_or_else(|p| p.into_inner());
    let (blob, p) = guard
        .as_ref()
        .ok_or_else(|| IpcError::new(ErrorCode::NotFound, "no recording is open"))?;
    let v = value.filter(|v| v.is_finite()).unwrap_or(0.0);
    match action.as_str() {
        "play" => p.play(),
        "pause" => p.pause(),
        "seek" => p.seek_ms(v.max(0.0) as u64),
        "rate" => p.set_rate(v),
        "status" => {}
        _ => return Err(IpcError::new(ErrorCode::Invalid, "no such player action")),
    }
    Ok(player_dto(blob, p))
}

/// Stops playing and closes the recording.
#[tauri::command]
pub async fn player_close(state: State<'_, AppState>) -> CmdResult<()> {
    state.audio.close_player();
    Ok(())
}
