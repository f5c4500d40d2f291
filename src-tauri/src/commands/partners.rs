//! Partner organisations and the bundles made for them (docs/design-notes.md "Partner
//! bundles"): added and removed after the vault's passphrase, previewed before anything is
//! written, written into the export folder.

use tauri::State;

use super::bundles::export_dir;
use super::{record_id, short};
use crate::dto::{ExportedFile, PartnerDto, PartnerPreviewDto, PartnerSentDto, PreviewLineDto};
use crate::error::CmdResult;
use crate::state::AppState;

fn word<T: serde::Serialize>(v: &T) -> Option<String> {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
}

fn preview_dto(v: &vault::Vault, p: vault::PartnerPreview) -> vault::Result<PartnerPreviewDto> {
    let lines = |list: Vec<vault::PreviewLine>| -> vault::Result<Vec<PreviewLineDto>> {
        list.into_iter()
            .map(|l| {
                Ok(PreviewLineDto {
                    summary: v.summary(l.record)?.into(),
                    going: l.going.as_ref().and_then(word),
                    reason: l.reason.as_ref().and_then(word),
                })
            })
            .collect()
    };
    let has_news = p.has_news();
    Ok(PartnerPreviewDto {
        partner: p.partner.clone(),
        going: lines(p.going)?,
        withheld: lines(p.withheld)?,
        withdrawn: lines(p.withdrawn)?,
        contact_removed: p.contact_removed as u32,
        attachments: p.attachments as u32,
        attachments_withheld: p.attachments_withheld as u32,
        has_news,
        digest: p.digest,
    })
}

/// Most records one bundle to a partner is chosen from (a dashboard's list opens 500).
const MAX_CHOSEN: usize = 100_000;

fn records(list: Option<Vec<String>>) -> CmdResult<Option<Vec<vault::RecordId>>> {
    if list.as_ref().is_some_and(|l| l.len() > MAX_CHOSEN) {
        return Err(crate::error::IpcError::new(
            crate::error::ErrorCode::Invalid,
            format!("choose at most {MAX_CHOSEN} records for one bundle"),
        ));
    }
    list.map(|l| l.iter().map(|s| record_id(s)).collect())
        .transpose()
}

/// The partner organisations.
#[tauri::command]
pub async fn partners_list(state: State<'_, AppState>) -> CmdResult<Vec<PartnerDto>> {
    let list = state.with_vault(|v| v.partners())?;
    Ok(list
        .into_iter()
        .map(|p| PartnerDto {
            label: p.label,
            recipient: p.recipient,
            added_at: p.added_at,
        })
        .collect())
}

/// Adds a partner by its age key: a new way out of the vault, so after its passphrase.
#[tauri::command]
pub async fn partners_add(
    state: State<'_, AppState>,
    key: String,
    label: String,
    passphrase: vault::Passphrase,
) -> CmdResult<()> {
    let r: vault::bundle::Recipient = short(&key, "key")?.parse()?;
    let label = short(&label, "label")?;
    state.with_vault(|v| {
        let ok = v.confirm_passphrase(&passphrase)?;
        v.add_partner(&r, &label, ok).map(drop)
    })
}

/// Removes a partner (after the passphrase).
#[tauri::command]
pub async fn partners_remove(
    state: State<'_, AppState>,
    label: String,
    passphrase: vault::Passphrase,
) -> CmdResult<()> {
    let label = short(&label, "label")?;
    state.with_vault(|v| {
        let ok = v.confirm_passphrase(&passphrase)?;
        v.remove_partner(&label, ok).map(drop)
    })
}

/// What a bundle to `partner` of `records` (everything that may go, when none) would hold and
/// leave out, and why.
#[tauri::command]
pub async fn partner_preview(
    state: State<'_, AppState>,
    partner: String,
    records: Option<Vec<String>>,
) -> CmdResult<PartnerPreviewDto> {
    let partner = short(&partner, "partner")?;
    let ids = self::records(records)?;
    state.with_vault(|v| {
        let p = v.partner_preview(&partner, ids.as_deref())?;
        preview_dto(v, p)
    })
}

/// Writes the bundle the preview showed (`digest`) into the export folder: refused if what
/// would go changed since.
#[tauri::command]
pub async fn partner_export(
    state: State<'_, AppState>,
    partner: String,
    records: Option<Vec<String>>,
    digest: String,
) -> CmdResult<PartnerSentDto> {
    let digest = short(&digest, "digest")?;
    let partner = short(&partner, "partner")?;
    let ids = self::records(records)?;
    let output = export_dir(&state)?;
    state.with_vault(|v| {
        let job = vault::PartnerExport {
            partner,
            records: ids,
            output,
            armor: false,
            cancel: None,
            limits: Default::default(),
            previewed: Some(digest),
        };
        let (report, preview) = v.export_to_partner(&job, &mut |_| {})?;
        Ok(PartnerSentDto {
            files: report
                .bundles
                .iter()
                .map(|b| ExportedFile {
                    path: b.path.to_string_lossy().into_owned(),
                    sha256: b.sha256.clone(),
                    size: b.size,
                })
                .collect(),
            preview: preview_dto(v, preview)?,
        })
    })
}
