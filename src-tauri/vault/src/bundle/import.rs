//! Reading a bundle (BUNDLE.md "Reading"). Hostile input is the normal case.
//!
//! Order of checks: decrypt (age authenticates every chunk; a truncated or altered file fails),
//! then every tar entry — regular files only, under `kuager-bundle/`, a known name, no
//! duplicates, within the size caps — hashed as it streams (attachments re-encrypted to this
//! vault's identity as they stream; nothing is written in plaintext); then the manifest must list
//! exactly the entries seen with their sizes and hashes; then its signature; then the signer must
//! be a trusted device; then every revision's id must match its content, its record data must be
//! valid, its parents known, its attachments present. Only then does one transaction commit.
//! Streaming age hands out verified chunks before a later chunk may fail, so nothing is committed
//! before the whole file has been read.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::io::{self, BufReader, Read};
use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{FORMAT, ROOT, VERSION};
use crate::blobs::{self, NewBlob};
use crate::error::{Error, Result};
use crate::keys::VaultSecrets;
use crate::model;
use crate::revision::{self, Revision};
use crate::store::audit;

/// Most entries a bundle may have.
///
/// # Security
/// Caps what a hostile archive can make us track; a real bundle has one entry per attachment
/// plus five.
pub const MAX_ENTRIES: usize = 200_000;
/// Largest `records.jsonl` (held in memory while it is checked).
pub const MAX_RECORDS_BYTES: u64 = 512 << 20;
/// Largest `audit.jsonl`, `manifest.json` (held in memory).
pub const MAX_SMALL_BYTES: u64 = 64 << 20;
/// Largest single attachment.
pub const MAX_BLOB_BYTES: u64 = 64 << 30;
/// Largest total of all entries.
pub const MAX_TOTAL_BYTES: u64 = 256 << 30;

/// The highest scrypt work factor accepted in a file from outside (2^20 ≈ 1 GiB of memory, a few
/// seconds).
///
/// # Security
/// A passphrase-encrypted file names its own work factor; without a cap a hostile file could ask
/// for hours of work and tens of GiB (age's default cap is ~16 s on the current machine).
pub const MAX_OUTSIDE_WORK_FACTOR: u8 = 20;

/// Our decryption path for every age file from outside the vault: ASCII armor or binary,
/// the given X25519 identities and, only when given, a passphrase (scrypt, work factor capped at
/// [`MAX_OUTSIDE_WORK_FACTOR`]). Errors are refusals with a reason; the returned reader fails
/// on a chunk that does not authenticate, so its output is trusted only once fully read.
pub fn decrypt_outside<R: Read>(
    input: R,
    identities: &[age::x25519::Identity],
    passphrase: Option<&crate::keys::Passphrase>,
) -> Result<impl Read> {
    // Whitespace before an armored file is allowed (C2SP age); the age crate only detects armor
    // at the very start, so skip it here when the armor marker follows.
    let mut input = BufReader::new(input);
    {
        use std::io::BufRead;
        let head = input
            .fill_buf()
            .map_err(|e| reject(format!("the file cannot be read: {e}")))?;
        let ws = head.iter().take_while(|b| b.is_ascii_whitespace()).count();
        if ws > 0 && head[ws..].starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----") {
            input.consume(ws);
        }
    }
    let armored = age::armor::ArmoredReader::new(input);
    let dec = age::Decryptor::new_buffered(BufReader::new(armored))
        .map_err(|e| reject(format!("not a valid age file ({e})")))?;
    let scrypt = passphrase.map(|p| {
        let mut id = age::scrypt::Identity::new(p.secret());
        id.set_max_work_factor(MAX_OUTSIDE_WORK_FACTOR);
        id
    });
    let mut ids: Vec<&dyn age::Identity> =
        identities.iter().map(|i| i as &dyn age::Identity).collect();
    if let Some(s) = &scrypt {
        ids.push(s);
    }
    dec.decrypt(ids.into_iter()).map_err(|e| match e {
        age::DecryptError::NoMatchingKeys => reject(
            "this bundle is not addressed to this vault's key: ask the caseworker to export to your organisation key (kuager identity list)",
        ),
        age::DecryptError::DecryptionFailed if passphrase.is_some() => {
            reject("the passphrase does not open this file")
        }
        age::DecryptError::ExcessiveWork { required, .. } => reject(format!(
            "the file asks for an unreasonable amount of work to decrypt (scrypt work factor {required}, the limit is {MAX_OUTSIDE_WORK_FACTOR})"
        )),
        other => reject(format!("the file cannot be decrypted: {other}")),
    })
}

/// The caps an import applies (the named defaults above; tests use smaller ones).
#[derive(Debug, Clone, Copy)]
pub struct ImportLimits {
    /// Most entries.
    pub entries: usize,
    /// Largest `records.jsonl`.
    pub records_bytes: u64,
    /// Largest `audit.jsonl`, `manifest.json`, signature, README.
    pub small_bytes: u64,
    /// Largest attachment.
    pub blob_bytes: u64,
    /// Largest total.
    pub total_bytes: u64,
}

impl Default for ImportLimits {
    fn default() -> Self {
        ImportLimits {
            entries: MAX_ENTRIES,
            records_bytes: MAX_RECORDS_BYTES,
            small_bytes: MAX_SMALL_BYTES,
            blob_bytes: MAX_BLOB_BYTES,
            total_bytes: MAX_TOTAL_BYTES,
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
    /// Revisions this vault did not have.
    pub new_revisions: usize,
    /// Revisions already here.
    pub known_revisions: usize,
    /// Attachments this vault did not have.
    pub new_blobs: usize,
    /// Whether anything was written (false for inspect and for a bundle already imported).
    pub committed: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestEntry {
    path: String,
    size: u64,
    sha256: String,
}

#[derive(Deserialize)]
struct Source {
    device_public_key: String,
}

#[derive(Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    bundle_id: String,
    source: Source,
    entries: Vec<ManifestEntry>,
}

/// What was read from the archive before any check of meaning.
struct Staged {
    small: HashMap<String, Vec<u8>>,
    seen: BTreeMap<String, (u64, String)>,
    blobs: Vec<NewBlob>,
}

fn reject(reason: impl Into<String>) -> Error {
    Error::Rejected(reason.into())
}

/// A checked entry name: `README.txt`, `records.jsonl`, `audit.jsonl`, `manifest.json`,
/// `manifest.json.minisig` or `blobs/<64 lowercase hex>`. Never used as a path on disk.
fn entry_name(raw: &[u8]) -> Result<String> {
    let s = std::str::from_utf8(raw).map_err(|_| reject("an entry name is not UTF-8"))?;
    let shown: String = s.chars().take(80).collect();
    let rest = s
        .strip_prefix(ROOT)
        .and_then(|r| r.strip_prefix('/'))
        .ok_or_else(|| reject(format!("entry {shown:?} is outside {ROOT}/")))?;
    if rest
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
        || rest.contains('\\')
    {
        return Err(reject(format!(
            "entry {shown:?} has a path that is not normalised"
        )));
    }
    let ok = matches!(
        rest,
        "README.txt" | "records.jsonl" | "audit.jsonl" | "manifest.json" | "manifest.json.minisig"
    ) || rest.strip_prefix("blobs/").is_some_and(|h| {
        h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    });
    if !ok {
        return Err(reject(format!("unexpected entry {shown:?}")));
    }
    Ok(rest.to_owned())
}

fn read_capped(r: &mut impl Read, cap: u64, name: &str) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(cap + 1).read_to_end(&mut buf).map_err(|e| {
        reject(format!(
            "the bundle could not be read ({e}): it is damaged or was altered"
        ))
    })?;
    if buf.len() as u64 > cap {
        return Err(reject(format!(
            "{name} is larger than the {cap}-byte limit"
        )));
    }
    Ok(buf)
}

/// Where the tar stream comes from.
pub(crate) enum Input<'a> {
    /// An age file, the identities to open it with and, for a passphrase bundle, the passphrase.
    File(
        &'a Path,
        &'a [age::x25519::Identity],
        Option<&'a crate::Passphrase>,
    ),
    /// An already decrypted tar stream (fuzzing the importer past the encryption).
    Plain(&'a [u8]),
}

/// A piece of the decrypted bundle on its way from the decrypting thread to the tar reader.
enum Piece {
    Data(Zeroizing<Vec<u8>>),
    /// The decrypting thread stopped with this error (reported instead of the tar reader's).
    Failed,
}

/// Reads the decrypted bundle from the channel.
struct Pieces<'r> {
    rx: &'r std::sync::mpsc::Receiver<Piece>,
    back: std::sync::mpsc::Sender<Zeroizing<Vec<u8>>>,
    cur: Zeroizing<Vec<u8>>,
    pos: usize,
}

impl Read for Pieces<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.cur.len() {
            match self.rx.recv() {
                Ok(Piece::Data(b)) => {
                    let used = std::mem::replace(&mut self.cur, b);
                    let _ = self.back.send(used);
                    self.pos = 0;
                }
                Ok(Piece::Failed) => {
                    return Err(io::Error::other("the bundle could not be decrypted"))
                }
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.cur.len() - self.pos);
        out[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Hashes what is read through it.
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Size of the pieces handed from the decrypting thread to the tar reader.
const PIECE: usize = 256 * 1024;

/// Decrypts and stages the bundle; returns the SHA-256 of the file as read. One thread reads,
/// hashes and decrypts the file while this one takes the tar apart, hashing and re-encrypting
/// attachments (and a third writes them, crate::sink): the work of an import spread over both
/// cores, a few pieces in flight.
fn stage(
    source: &Input<'_>,
    vault_dir: &Path,
    own: &age::x25519::Recipient,
    staged: &mut Staged,
    limits: &ImportLimits,
    known_blob: &dyn Fn(&str) -> bool,
) -> Result<String> {
    let (file, identities, passphrase) = match source {
        Input::File(file, identities, passphrase) => (*file, *identities, *passphrase),
        Input::Plain(bytes) => {
            stage_tar(*bytes, vault_dir, own, staged, limits, known_blob)?;
            return Ok(hex::encode(Sha256::digest(bytes)));
        }
    };
    let f = fs::File::open(file).map_err(Error::io(format!("opening {}", file.display())))?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Piece>(4);
    let (back_tx, back_rx) = std::sync::mpsc::channel::<Zeroizing<Vec<u8>>>();
    std::thread::scope(|s| -> Result<String> {
        let reading = s.spawn(move || -> Result<Option<String>> {
            let mut raw = HashingReader {
                inner: f,
                hasher: Sha256::new(),
            };
            let res = (|| -> Result<bool> {
                let mut dec = decrypt_outside(&mut raw, identities, passphrase)?;
                loop {
                    let mut buf = back_rx.try_recv().unwrap_or_default();
                    buf.resize(PIECE, 0);
                    let n = blobs::read_full(&mut dec, &mut buf).map_err(|e| {
                        reject(format!(
                            "the bundle is damaged or was altered after export ({e})"
                        ))
                    })?;
                    if n == 0 {
                        return Ok(true);
                    }
                    buf.truncate(n);
                    if tx.send(Piece::Data(buf)).is_err() {
                        return Ok(false); // the tar reader stopped; its error is reported
                    }
                }
            })();
            match res {
                Ok(true) => {
                    // Anything after the age stream is part of the file and of its hash.
                    io::copy(&mut raw, &mut io::sink())
                        .map_err(Error::io(format!("reading {}", file.display())))?;
                    Ok(Some(hex::encode(raw.hasher.finalize())))
                }
                Ok(false) => Ok(None),
                Err(e) => {
                    let _ = tx.send(Piece::Failed);
                    Err(e)
                }
            }
        });
        let mut pieces = Pieces {
            rx: &rx,
            back: back_tx,
            cur: Zeroizing::new(Vec::new()),
            pos: 0,
        };
        let staged_res = stage_tar(&mut pieces, vault_dir, own, staged, limits, known_blob)
            .and_then(|()| {
                // The tar ends before the age stream does (padding): read on to its end, so
                // that its last chunk is authenticated too.
                io::copy(&mut pieces, &mut io::sink())
                    .map(drop)
                    .map_err(|e| {
                        reject(format!(
                            "the bundle is damaged or was altered after export ({e})"
                        ))
                    })
            });
        drop(pieces);
        drop(rx);
        let read_res = reading
            .join()
            .unwrap_or_else(|_| Err(Error::Verify("the bundle reader failed".into())));
        match (read_res, staged_res) {
            // A decryption failure explains whatever the tar reader saw.
            (Err(e), _) => Err(e),
            (Ok(_), Err(e)) => Err(e),
            (Ok(Some(sha)), Ok(())) => Ok(sha),
            (Ok(None), Ok(())) => Err(reject("the bundle ended early")),
        }
    })
}

fn stage_tar(
    stream: impl Read,
    vault_dir: &Path,
    own: &age::x25519::Recipient,
    staged: &mut Staged,
    limits: &ImportLimits,
    known_blob: &dyn Fn(&str) -> bool,
) -> Result<()> {
    let mut archive = tar::Archive::new(stream);
    let entries = archive
        .entries()
        .map_err(|e| reject(format!("the bundle is not a tar archive: {e}")))?;
    let mut total = 0u64;
    for (n, entry) in entries.enumerate() {
        if n >= limits.entries {
            return Err(reject(format!(
                "the bundle has more than {} entries",
                limits.entries
            )));
        }
        let mut entry = entry.map_err(|e| {
            reject(format!(
                "the bundle is damaged or was altered after export ({e})"
            ))
        })?;
        let name = entry_name(&entry.path_bytes())?;
        let kind = entry.header().entry_type();
        if !kind.is_file() {
            return Err(reject(format!(
                "entry {name:?} is not a regular file (links, folders and devices are refused)"
            )));
        }
        if staged.seen.contains_key(&name) {
            return Err(reject(format!("entry {name:?} appears twice")));
        }
        let size = entry.size();
        total = total.saturating_add(size);
        if total > limits.total_bytes {
            return Err(reject("the bundle is larger than the total size limit"));
        }
        let (size_read, sha) = if name.starts_with("blobs/") {
            if size > limits.blob_bytes {
                return Err(reject(format!(
                    "attachment {name:?} is larger than the limit"
                )));
            }
            if name.strip_prefix("blobs/").is_some_and(known_blob) {
                // Already here: only check it (hash and size), write nothing.
                let mut h = Sha256::new();
                let n = io::copy(&mut entry, &mut h).map_err(|e| {
                    reject(format!(
                        "the bundle is damaged or was altered after export ({e})"
                    ))
                })?;
                if n != size {
                    return Err(reject(format!(
                        "entry {name:?} is shorter than its header says"
                    )));
                }
                staged.seen.insert(name, (n, hex::encode(h.finalize())));
                continue;
            }
            // Re-encrypted to this vault as it streams: the plaintext never touches the disk.
            let b = blobs::write_serial(vault_dir, own, &mut entry).map_err(|e| match e {
                Error::Io { source, .. } => reject(format!(
                    "the bundle is damaged or was altered after export ({source})"
                )),
                other => other,
            })?;
            let r = (b.size, b.sha256.clone());
            staged.blobs.push(b);
            r
        } else {
            let cap = if name == "records.jsonl" {
                limits.records_bytes
            } else {
                limits.small_bytes
            };
            let bytes = read_capped(&mut entry, cap, &name)?;
            let r = (bytes.len() as u64, hex::encode(Sha256::digest(&bytes)));
            staged.small.insert(name.clone(), bytes);
            r
        };
        if size_read != size {
            return Err(reject(format!(
                "entry {name:?} is shorter than its header says"
            )));
        }
        staged.seen.insert(name, (size_read, sha));
    }
    Ok(())
}

/// Reads, checks and (unless `dry_run`) commits a bundle.
#[allow(clippy::too_many_arguments)]
pub(crate) fn import(
    conn: &Connection,
    secrets: &VaultSecrets,
    device: &str,
    vault_dir: &Path,
    source: Input<'_>,
    extra_identities: &[age::x25519::Identity],
    trust_signer: Option<&str>,
    dry_run: bool,
    limits: &ImportLimits,
) -> Result<ImportReport> {
    let mut identities: Vec<age::x25519::Identity> = Vec::new();
    {
        let mut st = conn.prepare("SELECT secret FROM identities")?;
        let secrets_txt: Vec<String> = st
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for s in secrets_txt {
            identities.push(s.parse().map_err(|_| {
                Error::Verify("an organisation identity in this vault is unreadable".into())
            })?);
        }
    }
    identities.extend(extra_identities.iter().cloned());
    if identities.is_empty() && matches!(source, Input::File(_, _, None)) {
        return Err(Error::invalid(
            "identity",
            "this vault holds no organisation identity: create one with `kuager identity new`, import one with `kuager identity import FILE`, or give -i FILE",
        ));
    }
    let own = secrets.identity().to_public();
    let mut staged = Staged {
        small: HashMap::new(),
        seen: BTreeMap::new(),
        blobs: Vec::new(),
    };
    let source = match source {
        Input::File(f, _, p) => Input::File(f, &identities, p),
        plain => plain,
    };
    let result = (|| {
        let size = match &source {
            Input::File(f, ..) => fs::metadata(f)
                .map_err(Error::io(format!("opening {}", f.display())))?
                .len(),
            Input::Plain(b) => b.len() as u64,
        };
        // The very same file was imported before: everything in it is here already (or purged
        // since, and must stay so). Nothing to decrypt. Only a file of the size of an earlier
        // one can be the same, so only then is it hashed before it is read.
        let maybe_known: bool = conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM imports WHERE size IS NULL OR size = ?1)",
            [size as i64],
            |r| r.get(0),
        )?;
        let earlier: Option<(String, String)> = if maybe_known {
            let file_sha = match &source {
                Input::File(f, ..) => {
                    let mut h = Sha256::new();
                    let mut file =
                        fs::File::open(f).map_err(Error::io(format!("opening {}", f.display())))?;
                    io::copy(&mut file, &mut h).map_err(Error::io("reading the bundle"))?;
                    hex::encode(h.finalize())
                }
                Input::Plain(b) => hex::encode(Sha256::digest(b)),
            };
            conn.query_row(
                "SELECT bundle_id, signer FROM imports WHERE sha256 = ?1",
                [&file_sha],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
        } else {
            None
        };
        if let Some((bundle_id, signer)) = earlier {
            let label: Option<String> = conn
                .query_row(
                    "SELECT label FROM trusted_devices WHERE public_key = ?1",
                    [&signer],
                    |r| r.get(0),
                )
                .optional()?;
            let key_id = minisign::PublicKey::from_base64(&signer)
                .map(|pk| {
                    let mut id = pk.keynum().to_vec();
                    id.reverse();
                    hex::encode_upper(id)
                })
                .unwrap_or_default();
            if !dry_run {
                audit::append(
                    conn,
                    device,
                    &revision::now(),
                    "bundle_reimported",
                    serde_json::json!({ "bundle_id": bundle_id }),
                )?;
            }
            let report = ImportReport {
                bundle_id,
                signer: Signer {
                    public_key: signer,
                    key_id,
                    label,
                },
                new_records: 0,
                changed_records: 0,
                conflicts: vec![],
                new_revisions: 0,
                known_revisions: 0,
                new_blobs: 0,
                committed: false,
            };
            return Ok((report, BTreeSet::new()));
        }
        let known_blob = |sha: &str| -> bool {
            conn.prepare_cached("SELECT 1 FROM blobs WHERE sha256 = ?1")
                .and_then(|mut st| st.query_row([sha], |_| Ok(())).optional())
                .map(|r| r.is_some())
                .unwrap_or(false)
        };
        let file_sha = stage(&source, vault_dir, &own, &mut staged, limits, &known_blob)?;
        check_and_commit(
            conn,
            vault_dir,
            device,
            &mut staged,
            trust_signer,
            dry_run,
            (&file_sha, size),
        )
    })();
    // Staged attachment files that did not become part of the vault are removed.
    let keep: BTreeSet<String> = match &result {
        Ok((_, kept)) => kept.clone(),
        Err(_) => BTreeSet::new(),
    };
    for b in &staged.blobs {
        if !keep.contains(&b.rel) {
            let path = vault_dir.join(&b.rel);
            let _ = fs::remove_file(&path);
            if let Some(sub) = path.parent() {
                let _ = fs::remove_dir(sub); // only if now empty
            }
        }
    }
    match result {
        Ok((report, _)) => Ok(report),
        Err(e) => {
            if !dry_run {
                let _ = audit::append(
                    conn,
                    device,
                    &revision::now(),
                    "bundle_rejected",
                    serde_json::json!({ "reason": e.to_string() }),
                );
            }
            Err(e)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn check_and_commit(
    conn: &Connection,
    vault_dir: &Path,
    device: &str,
    staged: &mut Staged,
    trust_signer: Option<&str>,
    dry_run: bool,
    (file_sha, file_size): (&str, u64),
) -> Result<(ImportReport, BTreeSet<String>)> {
    // 1. The manifest lists exactly what was seen.
    let manifest_bytes = staged
        .small
        .get("manifest.json")
        .ok_or_else(|| reject("the bundle has no manifest.json"))?
        .clone();
    let sig = staged
        .small
        .get("manifest.json.minisig")
        .ok_or_else(|| reject("the bundle has no signature (manifest.json.minisig)"))?
        .clone();
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| reject(format!("manifest.json is not valid: {e}")))?;
    if manifest.format != FORMAT || manifest.version != VERSION {
        return Err(reject(format!(
            "not a Kuager bundle of a version this Kuager reads ({} {})",
            manifest.format, manifest.version
        )));
    }
    let mut listed: BTreeMap<String, (u64, String)> = BTreeMap::new();
    for e in &manifest.entries {
        if listed
            .insert(e.path.clone(), (e.size, e.sha256.clone()))
            .is_some()
        {
            return Err(reject(format!("the manifest lists {:?} twice", e.path)));
        }
    }
    let mut seen = staged.seen.clone();
    seen.remove("manifest.json");
    seen.remove("manifest.json.minisig");
    for (path, (size, sha)) in &seen {
        match listed.get(path) {
            None => return Err(reject(format!("entry {path:?} is not in the manifest"))),
            Some((s, h)) if s != size || h != sha => {
                return Err(reject(format!(
                "entry {path:?} does not match the manifest (size or hash): the bundle was altered"
            )))
            }
            Some(_) => {}
        }
        if let Some(h) = path.strip_prefix("blobs/") {
            if h != sha {
                return Err(reject(format!(
                    "attachment {path:?} does not match its name"
                )));
            }
        }
    }
    if let Some(missing) = listed.keys().find(|p| !seen.contains_key(*p)) {
        return Err(reject(format!(
            "the manifest lists {missing:?}, which is not in the bundle"
        )));
    }
    // 2. The signature, by the key the manifest names; 3. that key must be trusted.
    let pk = minisign::PublicKey::from_base64(&manifest.source.device_public_key)
        .map_err(|_| reject("the manifest's device key is not a minisign key"))?;
    let sig_text = String::from_utf8(sig).map_err(|_| reject("the signature is not text"))?;
    let sig_box = minisign::SignatureBox::from_string(&sig_text)
        .map_err(|_| reject("the signature file is not a minisign signature"))?;
    minisign::verify(&pk, &sig_box, io::Cursor::new(&manifest_bytes), true, false, false).map_err(|_| {
        reject("signature does not match: the bundle was altered after export, or signed by another key")
    })?;
    let mut key_id = pk.keynum().to_vec();
    key_id.reverse();
    let key_id = hex::encode_upper(key_id);
    let public_key = pk.to_base64();
    let label: Option<String> = conn
        .query_row(
            "SELECT label FROM trusted_devices WHERE public_key = ?1",
            [&public_key],
            |r| r.get(0),
        )
        .optional()?;
    let was_trusted = label.is_some();
    let label = match (label, trust_signer) {
        (Some(l), _) => Some(l),
        (None, Some(new_label)) => Some(new_label.to_owned()),
        (None, None) => {
            return Err(reject(format!(
                "signed by an unknown device key {key_id}: check the key with the caseworker, then `kuager trust {public_key} --label NAME` (or import with --trust-signer)"
            )))
        }
    };
    // 4. Every revision: id matches content, data valid, parents known, attachments present.
    let records_bytes = staged
        .small
        .get("records.jsonl")
        .cloned()
        .unwrap_or_default();
    let text =
        std::str::from_utf8(&records_bytes).map_err(|_| reject("records.jsonl is not UTF-8"))?;
    let mut revisions: Vec<Revision> = Vec::new();
    let mut in_bundle: HashMap<String, usize> = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let rev: Revision = serde_json::from_str(line).map_err(|e| {
            reject(format!(
                "records.jsonl line {}: not a revision ({e})",
                i + 1
            ))
        })?;
        if rev.id_matches() != Some(true) {
            return Err(reject(format!(
                "records.jsonl line {}: revision id does not match its content (forged or altered)",
                i + 1
            )));
        }
        let data = rev.data.as_ref().expect("checked by id_matches");
        if revision::is_purge_marker(data) {
            if revision::purge_targets(data).is_none() {
                return Err(reject(format!(
                    "records.jsonl line {}: a malformed purge",
                    i + 1
                )));
            }
        } else {
            model::validate_value(rev.kind, data)
                .map_err(|e| reject(format!("records.jsonl line {}: {e}", i + 1)))?;
        }
        if in_bundle
            .insert(rev.id.to_string(), revisions.len())
            .is_some()
        {
            return Err(reject(format!(
                "records.jsonl line {}: revision listed twice",
                i + 1
            )));
        }
        revisions.push(rev);
    }
    let blob_names: BTreeSet<String> = staged.blobs.iter().map(|b| b.sha256.clone()).collect();
    let mut report = ImportReport {
        bundle_id: manifest.bundle_id.clone(),
        signer: Signer {
            public_key: public_key.clone(),
            key_id,
            label: label.clone(),
        },
        new_records: 0,
        changed_records: 0,
        conflicts: vec![],
        new_revisions: 0,
        known_revisions: 0,
        new_blobs: 0,
        committed: false,
    };
    let known = |id: &str| -> Result<bool> {
        Ok(conn
            .prepare_cached("SELECT 1 FROM revisions WHERE id = ?1")?
            .query_row([id], |_| Ok(()))
            .optional()?
            .is_some())
    };
    let mut new_revs = Vec::new();
    for rev in &revisions {
        for p in &rev.parents {
            if !in_bundle.contains_key(p.as_str()) && !known(p.as_str())? {
                return Err(reject(format!(
                    "revision {} continues a revision this vault does not have: import the earlier bundle from this caseworker first",
                    rev.id.short()
                )));
            }
        }
        for a in rev
            .data
            .as_ref()
            .and_then(|d| d.get("attachments"))
            .and_then(|a| a.as_array())
            .into_iter()
            .flatten()
        {
            let b = a.get("blob").and_then(|b| b.as_str()).unwrap_or_default();
            let here: bool = conn
                .prepare_cached("SELECT 1 FROM blobs WHERE sha256 = ?1")?
                .query_row([b], |_| Ok(()))
                .optional()?
                .is_some();
            if !blob_names.contains(b) && !here {
                return Err(reject(format!(
                    "revision {} refers to attachment {} which is neither in the bundle nor in this vault",
                    rev.id.short(),
                    &b[..12.min(b.len())]
                )));
            }
        }
        if known(rev.id.as_str())? {
            report.known_revisions += 1;
        } else {
            new_revs.push(rev);
        }
    }
    report.new_revisions = new_revs.len();
    // 5. The plan: which records are new or changed, and their heads afterwards.
    let mut by_record: BTreeMap<String, Vec<&Revision>> = BTreeMap::new();
    for r in &new_revs {
        by_record.entry(r.record.to_string()).or_default().push(r);
    }
    // Attachments are kept only when a revision being added refers to them (a bundle cannot
    // bring back an attachment purged here, nor leave files nothing refers to).
    let needed: BTreeSet<&str> = new_revs
        .iter()
        .filter_map(|r| r.data.as_ref())
        .filter(|d| !revision::is_purge_marker(d))
        .filter_map(|d| d.get("attachments").and_then(|a| a.as_array()))
        .flatten()
        .filter_map(|a| a.get("blob").and_then(|b| b.as_str()))
        .collect();
    let mut new_blobs = Vec::new();
    for b in staged
        .blobs
        .iter()
        .filter(|b| needed.contains(b.sha256.as_str()))
    {
        let here: bool = conn
            .query_row("SELECT 1 FROM blobs WHERE sha256 = ?1", [&b.sha256], |_| {
                Ok(())
            })
            .optional()?
            .is_some();
        if !here {
            new_blobs.push(b);
        }
    }
    report.new_blobs = new_blobs.len();
    let tx = conn.unchecked_transaction()?;
    let mut kept = BTreeSet::new();
    for (record, revs) in &by_record {
        let existing_kind: Option<String> = tx
            .query_row("SELECT kind FROM records WHERE id = ?1", [record], |r| {
                r.get(0)
            })
            .optional()?;
        let kind = revs[0].kind;
        if revs.iter().any(|r| r.kind != kind) {
            return Err(reject(format!(
                "record {record} has revisions of different kinds"
            )));
        }
        match &existing_kind {
            Some(k) if k != kind.as_str() => {
                return Err(reject(format!(
                    "record {record} is a {k} here but a {kind} in the bundle"
                )))
            }
            Some(_) => report.changed_records += 1,
            None => {
                report.new_records += 1;
                tx.execute(
                    "INSERT INTO records(id, kind, created_at, heads) VALUES (?1, ?2, ?3, '[]')",
                    params![record, kind.as_str(), revs[0].at],
                )?;
            }
        }
        for r in revs {
            let data = r
                .data
                .as_ref()
                .map(|d| {
                    revision::canonical_json(d)
                        .map(|b| String::from_utf8(b).expect("JSON is UTF-8"))
                })
                .transpose()?;
            tx.execute(
                "INSERT INTO revisions(id, record, parents, device, at, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    r.id.as_str(),
                    record,
                    serde_json::to_string(&r.parents).expect("serialisable"),
                    r.device,
                    r.at,
                    data
                ],
            )?;
        }
        // Heads: revisions of the record that no other revision of it names as a parent.
        let all: Vec<(String, String)> = tx
            .prepare(
                "WITH RECURSIVE h(id) AS ( \
                     SELECT value FROM json_each((SELECT heads FROM records WHERE id = ?1)) \
                     UNION SELECT p.value FROM h CROSS JOIN revisions v ON v.id = h.id, json_each(v.parents) p) \
                 SELECT v.id, v.parents FROM h CROSS JOIN revisions v ON v.id = h.id ORDER BY v.seq",
            )?
            .query_map([record], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        // Also every new revision (a bundle may carry two branches of one record).
        let mut ids: Vec<(String, Vec<String>)> = all
            .into_iter()
            .map(|(id, p)| (id, serde_json::from_str(&p).unwrap_or_default()))
            .collect();
        for r in revs {
            if !ids.iter().any(|(id, _)| id == r.id.as_str()) {
                ids.push((
                    r.id.to_string(),
                    r.parents.iter().map(|p| p.to_string()).collect(),
                ));
            }
        }
        let parents: BTreeSet<&String> = ids.iter().flat_map(|(_, p)| p.iter()).collect();
        let heads: Vec<String> = ids
            .iter()
            .filter(|(id, _)| !parents.contains(id))
            .map(|(id, _)| id.clone())
            .collect();
        if heads.len() > 1 {
            report.conflicts.push(record.clone());
        }
        tx.execute(
            "UPDATE records SET heads = ?2 WHERE id = ?1",
            params![record, serde_json::to_string(&heads).expect("serialisable")],
        )?;
    }
    for b in &new_blobs {
        tx.execute(
            "INSERT INTO blobs(sha256, file, size, added_at) VALUES (?1, ?2, ?3, ?4)",
            params![b.sha256, b.rel, b.size as i64, revision::now()],
        )?;
        kept.insert(b.rel.clone());
    }
    // Purges carried by the bundle destroy the content they name, here too.
    let mut purged_files = Vec::new();
    for (record, revs) in &by_record {
        for r in revs {
            if let Some((targets, blobs)) = r.data.as_ref().and_then(revision::purge_targets) {
                let blobs: BTreeSet<String> = blobs.into_iter().collect();
                purged_files.extend(crate::vault::apply_purge(
                    &tx,
                    record.parse()?,
                    &targets,
                    &blobs,
                )?);
            }
        }
    }
    for record in by_record.keys() {
        crate::vault::reindex_record(&tx, record.parse()?)?;
    }
    if dry_run {
        drop(tx); // rolls back: inspect changes nothing
        return Ok((report, BTreeSet::new()));
    }
    if !was_trusted {
        tx.execute(
            "INSERT OR IGNORE INTO trusted_devices(public_key, label, added_at) VALUES (?1, ?2, ?3)",
            params![public_key, label.clone().unwrap_or_default(), revision::now()],
        )?;
    }
    tx.execute(
        "INSERT OR IGNORE INTO imports(bundle_id, sha256, signer, at, size) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![manifest.bundle_id, file_sha, public_key, revision::now(), file_size as i64],
    )?;
    audit::append(
        &tx,
        device,
        &revision::now(),
        "bundle_imported",
        serde_json::json!({
            "bundle_id": manifest.bundle_id,
            "signer": report.signer.key_id,
            "new_records": report.new_records,
            "changed_records": report.changed_records,
            "new_revisions": report.new_revisions,
            "conflicts": report.conflicts.len(),
        }),
    )?;
    tx.commit()?;
    if !purged_files.is_empty() {
        crate::vault::finish_purge(conn, vault_dir, &purged_files)?;
    }
    report.committed = report.new_revisions > 0 || report.new_blobs > 0;
    Ok((report, kept))
}

/// Reads an `age-keygen` identity file (X25519 identities only).
pub fn read_identity_file(path: &Path) -> Result<Vec<age::x25519::Identity>> {
    let text =
        fs::read_to_string(path).map_err(Error::io(format!("reading {}", path.display())))?;
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
/// manifest, and each line as a revision (id check, record validation, purge markers). Never
/// panics; errors are the expected outcome.
#[doc(hidden)]
pub fn fuzz_parsers(data: &[u8]) {
    let _ = serde_json::from_slice::<Manifest>(data);
    for line in data.split(|&b| b == b'\n') {
        let _ = entry_name(line);
        if let Ok(rev) = serde_json::from_slice::<Revision>(line) {
            if rev.id_matches() == Some(true) {
                if let Some(d) = &rev.data {
                    let _ = revision::purge_targets(d);
                    let _ = model::validate_value(rev.kind, d);
                }
            }
        }
    }
}
