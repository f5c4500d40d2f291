//! IPC commands, one module per area of the UI. Each is a thin adapter: check the arguments'
//! shape and bounds, call `vault`, map the result to a `dto` type.

pub mod bundles;
pub mod evidence;
pub mod organisation;
pub mod partners;
pub mod receive;
pub mod recording;
pub mod records;
pub mod session;
pub mod uploads;

use crate::error::{CmdResult, ErrorCode, IpcError};

/// Longest free text accepted from the webview where no record is involved (keys, labels…).
pub const MAX_SHORT_TEXT: usize = 4096;

/// A record id from the webview.
pub fn record_id(s: &str) -> CmdResult<vault::RecordId> {
    s.trim()
        .parse()
        .map_err(|_| IpcError::new(ErrorCode::BadId, "not a record id"))
}

/// Short text from the webview, bounded.
pub fn short(s: &str, what: &str) -> CmdResult<String> {
    if s.len() > MAX_SHORT_TEXT {
        return Err(IpcError::new(
            ErrorCode::Invalid,
            format!("the {what} is too long"),
        ));
    }
    Ok(s.trim().to_owned())
}

/// Coordinators' keys typed or pasted in the UI (blank lines ignored), each checked.
pub fn recipients(list: &[String]) -> CmdResult<Vec<vault::bundle::Recipient>> {
    list.iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
        .map(|r| {
            r.parse::<vault::bundle::Recipient>()
                .map_err(IpcError::from)
        })
        .collect()
}
