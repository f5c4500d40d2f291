//! Pieces of a recording in progress on disk: `recordings/<32 random hex>.age`, each a standard
//! age file to the vault's own X25519 identity, written whole and durably (temp file, fsync,
//! rename, fsync of the folder) before the database refers to it. A piece is a few seconds of
//! encoded audio, so it is encrypted in memory; the plaintext never reaches a file. A crash loses
//! at most the piece being written (docs/design-notes.md "Recordings").
//!
//! Names are random (R11): neither the recording nor the order shows in them.

use std::fs;
use std::io::{Read, Write};
use std::path::Path;

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::fsutil;

/// The largest piece (a few seconds of speech are a few kilobytes).
pub(crate) const MAX_PIECE: usize = 4 << 20;

/// The folder of recording pieces, relative to the vault folder.
pub(crate) const DIR: &str = "recordings";

/// A new random file name under `recordings/`, relative to the vault folder.
pub(crate) fn new_rel() -> String {
    format!("{DIR}/{}.age", fsutil::random_name())
}

/// Encrypts `plain` to `recipient` and writes it durably to `rel` (which the caller has
/// announced as not yet part of the vault).
pub(crate) fn write(
    vault: &Path,
    rel: &str,
    recipient: &age::x25519::Recipient,
    plain: &[u8],
) -> Result<()> {
    let dir = vault.join(DIR);
    if !dir.is_dir() {
        fsutil::private_dir(&dir)?;
    }
    let enc = age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
        .map_err(|e| Error::Crypto(e.to_string()))?;
    let mut out = Vec::with_capacity(plain.len() + 256);
    let mut w = enc
        .wrap_output(&mut out)
        .map_err(Error::io("encrypting a piece of a recording"))?;
    w.write_all(plain)
        .and_then(|()| w.finish().map(|_| ()))
        .map_err(Error::io("encrypting a piece of a recording"))?;
    fsutil::write_atomic(&vault.join(rel), &out)
}

/// Reads and decrypts the piece at `rel`.
pub(crate) fn read(
    vault: &Path,
    rel: &str,
    identity: &age::x25519::Identity,
) -> Result<Zeroizing<Vec<u8>>> {
    let f = fs::File::open(vault.join(rel)).map_err(Error::io("opening a piece of a recording"))?;
    // The plaintext is shorter than the file: one allocation, no unwiped copies left behind.
    let len = f
        .metadata()
        .map_or(0, |m| m.len())
        .min(MAX_PIECE as u64 + 4096);
    let dec = age::Decryptor::new_buffered(std::io::BufReader::new(f)).map_err(|e| {
        Error::Crypto(format!(
            "a piece of a recording is damaged ({e}): run `kuager verify`"
        ))
    })?;
    let mut r = dec
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .map_err(|e| Error::Crypto(format!("a piece of a recording cannot be decrypted: {e}")))?;
    let mut plain = Zeroizing::new(Vec::with_capacity(len as usize));
    r.read_to_end(&mut plain)
        .map_err(|e| Error::Crypto(format!("a piece of a recording is damaged: {e}")))?;
    Ok(plain)
}

/// The piece files under `recordings/`, relative to the vault folder (not temp files).
pub(crate) fn stored(vault: &Path) -> Vec<String> {
    let Ok(list) = fs::read_dir(vault.join(DIR)) else {
        return Vec::new();
    };
    list.flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with(".tmp-"))
        .map(|n| format!("{DIR}/{n}"))
        .collect()
}
