//! Reading a bundle (docs/bundle-format.md "Reading"). Hostile input is the normal case.
//!
//! In phases, each in its own file:
//! 1. [`decrypt`]: the age layer (age authenticates every chunk; a truncated or altered file
//!    fails; [`header`] caps the header and hands it to age whole), on its own thread, hashing the
//!    file as it goes;
//! 2. [`entries`]: every tar entry — regular files only, under `kuager-bundle/`, a known name,
//!    no duplicates, within the caps (`crate::bundle::BundleLimits`, the exporter's too) —
//!    hashed as it streams; `records.jsonl` and attachments re-encrypted to this vault's
//!    identity as they stream (nothing is written in plaintext);
//! 3. [`check`]: the manifest must list exactly the entries seen with their sizes and hashes;
//!    then its signature; then the signer must be a trusted device; then, only then,
//!    `records.jsonl` is read back a line at a time ([`records`]), and every revision's id
//!    must match its content, its record data must be valid, its parents known and of the
//!    same record, its attachments present; a record begins once, a purge continues what it
//!    destroys, and no revision is in this vault's own name;
//! 4. [`apply`]: one transaction writes it all (or, to inspect, is rolled back).
//!
//! Streaming age hands out verified chunks before a later chunk may fail, so nothing is
//! committed before the whole file has been read. A bundle imported before is recognised by
//! its hash and not read again.

mod apply;
mod check;
mod decrypt;
mod entries;
mod format2;
mod header;
mod records;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use rusqlite::Connection;
use serde::Serialize;

use crate::bundle::BundleLimits;
use crate::crypto::keys::{Passphrase, VaultSecrets};
use crate::error::{Error, RejectReason, Result};
use crate::revision;
use crate::store::{audit, peers, purge};

pub use decrypt::{decrypt_outside, MAX_OUTSIDE_WORK_FACTOR};
pub use header::MAX_HEADER_BYTES;

/// How to import (or inspect) a bundle.
#[derive(Default)]
pub struct ImportOptions {
    /// Identities to decrypt with, besides the organisation identities the vault holds.
    pub identities: Vec<age::x25519::Identity>,
    /// The bundle is encrypted to this passphrase (scrypt, work factor capped at
    /// [`MAX_OUTSIDE_WORK_FACTOR`]).
    pub passphrase: Option<Passphrase>,
    /// Trusts an unknown signer under this label (after checking its key with the caseworker).
    pub trust_signer: Option<String>,
    /// The caps; the defaults are the named limits.
    pub limits: BundleLimits,
    /// Bytes of the bundle file read so far (for a progress bar; the file's size is the end).
    pub progress: Option<Arc<AtomicU64>>,
    /// Set to stop: the import ends with [`Error::Cancelled`] and writes nothing.
    pub cancel: Option<Arc<AtomicBool>>,
}

impl ImportOptions {
    fn cancelled(&self) -> Result<()> {
        match &self.cancel {
            Some(c) if c.load(Ordering::Relaxed) => Err(Error::Cancelled),
            _ => Ok(()),
        }
    }
}

/// Who signed a bundle.
#[derive(Debug, Clone, Serialize)]
pub struct Signer {
    /// The device's minisign public key.
    pub public_key: String,
    /// Its key id.
    pub key_id: String,
    /// The label it was trusted under, if it is trusted.
    pub label: Option<String>,
}

/// What an import did, or (for `inspect`) would do.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// The bundle's id.
    pub bundle_id: String,
    /// The signer.
    pub signer: Signer,
    /// Records this vault did not have.
    pub new_records: usize,
    /// Records this vault had that gain revisions.
    pub changed_records: usize,
    /// Records that end with more than one head.
    pub conflicts: Vec<String>,
    /// Records whose witness withdrew consent: the bundle carries their purge, and their
    /// content is destroyed here too.
    pub purged_records: usize,
    /// Revisions this vault did not have.
    pub new_revisions: usize,
    /// Revisions already here.
    pub known_revisions: usize,
    /// Attachments this vault did not have.
    pub new_blobs: usize,
    /// Whether anything was written (false for inspect and for a bundle already imported).
    pub committed: bool,
    /// The bundle format read: 2, or 1 for a bundle from an earlier Kuager (0 when the very
    /// same file was imported before and was not read again).
    pub format: u32,
    /// Whether what the bundle holds was read: not when inspecting a format-2 bundle whose
    /// signer is not trusted (nothing after its manifest is read before its signer is).
    pub read: bool,
}

impl ImportReport {
    fn empty(bundle_id: String, signer: Signer) -> Self {
        ImportReport {
            bundle_id,
            signer,
            new_records: 0,
            changed_records: 0,
            conflicts: vec![],
            purged_records: 0,
            new_revisions: 0,
            known_revisions: 0,
            new_blobs: 0,
            committed: false,
            format: 0,
            read: true,
        }
    }
}

/// Where the tar stream comes from.
pub(crate) enum Source<'a> {
    /// An age file.
    File(&'a Path),
    /// An already decrypted tar stream (fuzzing the importer past the encryption).
    #[cfg(fuzzing)]
    Plain(&'a [u8]),
}

/// Whether an import writes, or only reports what it would write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Import,
    Inspect,
}

/// The vault an import reads from and writes to.
pub(crate) struct Target<'a> {
    pub conn: &'a Connection,
    pub secrets: &'a VaultSecrets,
    pub device: &'a str,
    pub dir: &'a Path,
    /// Run inside the import's transaction once its revisions are written, with the ids of the
    /// records it touched; says whether it destroyed content (the vault's purges of people
    /// merged with someone purged: `crate::vault`, above this layer, passes it down).
    pub after: Option<AfterApply<'a>>,
}

/// See [`Target::after`].
/// Its arguments: the transaction, the records the import touched, and those of them purged now
/// (by a marker in the bundle, or before).
pub(crate) type AfterApply<'a> =
    &'a dyn Fn(&Connection, &[String], &BTreeSet<String>) -> Result<bool>;

/// What an import wrote: its report, and the staged attachment files that became part of the
/// vault.
pub(crate) struct Applied {
    pub report: ImportReport,
    pub kept: BTreeSet<String>,
    /// Content was destroyed: the full-text index and the WAL are to be cleared of it.
    pub purged: bool,
}

/// Reads, checks and (unless inspecting) commits a bundle, and records a refusal in the audit
/// log (when importing). A refused bundle changes nothing but that audit event.
pub(crate) fn run(
    t: &Target<'_>,
    source: Source<'_>,
    opts: &ImportOptions,
    mode: Mode,
) -> Result<ImportReport> {
    // Nothing to decrypt with: refused before the bundle is even opened, nothing recorded.
    let identities = identities(t.conn, &source, opts)?;
    let mut staged = entries::Staged::default();
    let result = read_and_apply(t, &source, opts, &identities, mode, &mut staged);
    // Staged attachment files that did not become part of the vault are removed.
    let keep: BTreeSet<String> = match &result {
        Ok(a) => a.kept.clone(),
        Err(_) => BTreeSet::new(),
    };
    staged.remove_unkept(t.conn, t.dir, &keep);
    match result {
        Ok(a) => {
            // Committed. What the bundle purged now leaves the disk, the full-text index and
            // the WAL; if that fails the import stands (its attachments are kept) and the
            // error says what did not finish.
            if a.purged {
                purge::finish(t.conn, t.dir)?;
            }
            Ok(a.report)
        }
        Err(e) => {
            // A cancelled import was not refused: nothing to record.
            if mode == Mode::Import && !matches!(e, Error::Cancelled) {
                let _ = audit::append(
                    t.conn,
                    t.device,
                    &revision::now(),
                    "bundle_rejected",
                    serde_json::json!({ "reason": audit_reason(&e) }),
                );
            }
            Err(e)
        }
    }
}

/// Why a bundle was refused, for the audit log: the message with every quoted part masked.
/// A refusal may quote a value from the bundle (`invalid type: string "…"`), and the audit log
/// keeps no record content: a purge must not find a name surviving there.
fn audit_reason(e: &Error) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    for c in e.to_string().chars() {
        match (quote, c) {
            (None, '"' | '`') => {
                quote = Some(c);
                out.push(c);
                out.push('…');
            }
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (Some(_), _) => {}
            (None, c) => out.push(c),
        }
    }
    out
}

fn read_and_apply(
    t: &Target<'_>,
    source: &Source<'_>,
    opts: &ImportOptions,
    identities: &[age::x25519::Identity],
    mode: Mode,
    staged: &mut entries::Staged,
) -> Result<Applied> {
    let size = match source {
        Source::File(f) => fs::metadata(f)
            .map_err(Error::io(format!("opening {}", f.display())))?
            .len(),
        #[cfg(fuzzing)]
        Source::Plain(b) => b.len() as u64,
    };
    if let Some(report) = already_imported(t, source, size, mode)? {
        return Ok(Applied {
            report,
            kept: BTreeSet::new(),
            purged: false,
        });
    }
    let own = t.secrets.identity().to_public();
    let known_blob = |sha: &str| crate::store::blobs::exists(t.conn, sha).unwrap_or(false);
    let input = decrypt::Input {
        source,
        identities,
        passphrase: opts.passphrase.as_ref(),
        progress: opts.progress.as_deref(),
        cancel: opts.cancel.as_deref(),
    };
    let signed = |key: &str, manifest: &[u8], sig: &[u8]| {
        check::signed_by_trusted(
            t.conn,
            key,
            manifest,
            sig,
            opts.trust_signer.as_deref(),
            mode,
        )
    };
    let sink = entries::Sink {
        vault_dir: t.dir,
        own: &own,
        identity: t.secrets.identity(),
        limits: &opts.limits,
        known_blob: &known_blob,
        expect_file: &|f| purge::expect_file(t.conn, f),
        expect_files: &|files| {
            let tx = t.conn.unchecked_transaction()?;
            for f in files {
                purge::expect_file(&tx, f)?;
            }
            tx.commit()?;
            Ok(())
        },
        signed: &signed,
        imported: &|sha| peers::import_by_sha(t.conn, sha),
    };
    let file_sha = decrypt::stage(&input, &sink, staged)?;
    if let Some((bundle_id, signer)) = staged.unread.take() {
        let mut report = ImportReport::empty(bundle_id, signer);
        report.format = format2::VERSION;
        report.read = false;
        return Ok(Applied {
            report,
            kept: BTreeSet::new(),
            purged: false,
        });
    }
    if let Some((bundle_id, signer)) = staged.reimport.take() {
        return Ok(Applied {
            report: reimported(t, bundle_id, signer, mode)?,
            kept: BTreeSet::new(),
            purged: false,
        });
    }
    // What recognises the bundle when it comes again: the file's hash (format 1), or its
    // manifest's (format 2; recorded with no size, so that no file is hashed for it first).
    let (known_by, recorded_size) = match (file_sha, &staged.verified) {
        (Some(sha), _) => (sha, size),
        (None, Some(v)) => (v.manifest_sha256.clone(), 0),
        (None, None) => {
            return Err(decrypt::reject_as(
                RejectReason::Damaged,
                "the bundle ended early",
            ))
        }
    };
    let spool = || -> Result<Option<Box<dyn std::io::Read + Send>>> {
        match &staged.records {
            None => Ok(None),
            Some(f) => crate::crypto::blobs::open(t.dir, &f.rel, t.secrets.identity())
                .map(Some)
                .map_err(|e| {
                    decrypt::reject(format!("records.jsonl could not be read back ({e})"))
                }),
        }
    };
    let read_records = || match spool()? {
        None => Ok(Vec::new()),
        Some(r) => records::read(r),
    };
    let reread = |f: &mut dyn FnMut(revision::Revision) -> Result<()>| match spool()? {
        None => Ok(()),
        Some(r) => records::each(r, |_, rev| f(rev)),
    };
    let checked = check::all(
        t.conn,
        t.device,
        staged,
        opts.trust_signer.as_deref(),
        mode,
        read_records,
    )?;
    opts.cancelled()?;
    apply::commit(
        t,
        staged,
        checked,
        mode,
        (&known_by, recorded_size),
        &reread,
    )
}

/// The vault's organisation identities, then those given.
fn identities(
    conn: &Connection,
    source: &Source<'_>,
    opts: &ImportOptions,
) -> Result<Vec<age::x25519::Identity>> {
    let mut ids: Vec<age::x25519::Identity> = Vec::new();
    for s in peers::identity_secrets(conn)? {
        ids.push(s.parse().map_err(|_| {
            Error::Verify("an organisation identity in this vault is unreadable".into())
        })?);
    }
    ids.extend(opts.identities.iter().cloned());
    if ids.is_empty() && matches!(source, Source::File(_)) && opts.passphrase.is_none() {
        return Err(Error::NoIdentity);
    }
    Ok(ids)
}

/// The very same file was imported before: everything in it is here already (or purged since,
/// and must stay so). Nothing to decrypt. Only a file of the size of an earlier one can be the
/// same, so only then is it hashed before it is read.
fn already_imported(
    t: &Target<'_>,
    source: &Source<'_>,
    size: u64,
    mode: Mode,
) -> Result<Option<ImportReport>> {
    if !peers::import_of_size_may_exist(t.conn, size)? {
        return Ok(None);
    }
    let file_sha = match source {
        Source::File(f) => decrypt::hash_file(f)?,
        #[cfg(fuzzing)]
        Source::Plain(b) => hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b)),
    };
    let Some((bundle_id, signer)) = peers::import_by_sha(t.conn, &file_sha)? else {
        return Ok(None);
    };
    reimported(t, bundle_id, signer, mode).map(Some)
}

/// The report of a bundle imported before (recorded in the audit log when importing).
fn reimported(
    t: &Target<'_>,
    bundle_id: String,
    signer: String,
    mode: Mode,
) -> Result<ImportReport> {
    let label = peers::device_label(t.conn, &signer)?;
    let key_id = minisign::PublicKey::from_base64(&signer)
        .map(|pk| check::key_id(&pk))
        .unwrap_or_default();
    if mode == Mode::Import {
        audit::append(
            t.conn,
            t.device,
            &revision::now(),
            "bundle_reimported",
            serde_json::json!({ "bundle_id": bundle_id }),
        )?;
    }
    let signer = Signer {
        public_key: signer,
        key_id,
        label,
    };
    Ok(ImportReport::empty(bundle_id, signer))
}

/// The largest identity file read: `age-keygen` writes about 200 bytes per identity.
pub const MAX_IDENTITY_FILE_BYTES: usize = 64 * 1024;

/// Reads an `age-keygen` identity file (X25519 identities only), into one buffer of its
/// final size that is wiped when dropped: it holds secret keys.
pub fn read_identity_file(path: &Path) -> Result<Vec<age::x25519::Identity>> {
    use std::io::Read;
    let reading = || Error::io(format!("reading {}", path.display()));
    let file = fs::File::open(path).map_err(reading())?;
    let mut text = zeroize::Zeroizing::new(String::with_capacity(MAX_IDENTITY_FILE_BYTES + 1));
    file.take(MAX_IDENTITY_FILE_BYTES as u64 + 1)
        .read_to_string(&mut text)
        .map_err(reading())?;
    if text.len() > MAX_IDENTITY_FILE_BYTES {
        return Err(Error::invalid(
            "identity",
            format!(
                "{} is larger than {} KiB: not an age identity file",
                path.display(),
                MAX_IDENTITY_FILE_BYTES / 1024
            ),
        ));
    }
    let ids: Vec<age::x25519::Identity> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .map(|l| l.parse())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| {
            Error::invalid(
                "identity",
                format!("{} holds an invalid age identity", path.display()),
            )
        })?;
    if ids.is_empty() {
        return Err(Error::invalid(
            "identity",
            format!(
                "{} holds no age identity (AGE-SECRET-KEY-1…)",
                path.display()
            ),
        ));
    }
    Ok(ids)
}

/// Runs the bundle text parsers on arbitrary bytes (for `cargo fuzz`): entry names, the
/// manifests of both formats, an inner attachment's age header (read, then opened with a key it
/// is not for), and each line as a revision (id check, record validation, purge markers). Never
/// panics; errors are the expected outcome.
#[cfg(fuzzing)]
pub fn fuzz_parsers(data: &[u8]) {
    let _ = serde_json::from_slice::<check::Manifest>(data);
    format2::fuzz(data);
    records::fuzz(data);
    for line in data.split(|&b| b == b'\n') {
        let _ = entries::entry_name(line);
        if let Ok(rev) = serde_json::from_slice::<revision::Revision>(line) {
            if rev.id_matches() == Some(true) {
                if let Some(d) = &rev.data {
                    let _ = revision::purge_targets(d);
                    let _ = crate::model::validate_value(rev.kind, d);
                }
            }
        }
    }
}
