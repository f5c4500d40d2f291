//! Keyslots and the vault secrets they hold.
//!
//! A vault has one set of secrets, made once at `init` (docs/architecture.md "A vault on disk"):
//! the raw 256-bit SQLCipher key, the vault's own age X25519 identity (attachments are encrypted
//! to it), a device id and a device signing key (minisign Ed25519, for bundle signatures). They exist on
//! disk only inside keyslots, each a standard age file:
//!
//! - `keyslots/passphrase.age`: age scrypt recipient (the user's passphrase);
//! - `keyslots/recovery-<random>.age`: optional, one per age X25519 recipient of the
//!   organisation; the name says nothing about the key (the vault tries each slot).
//!
//! The plaintext of a keyslot is a small JSON document (see `docs/recovery.md`), so that a vault
//! can be opened with standard tools alone. In memory the secrets live in one boxed, `mlock`ed,
//! zeroize-on-drop struct.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use serde::Deserialize;
use uuid::Uuid;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::harden;
pub use super::passphrase::{
    passphrase_strength, Confirmed, Passphrase, Strength, MIN_PASSPHRASE_CHARS,
};
use crate::error::{Error, Result};
use crate::fsutil;
use crate::fsutil::fill_random;

/// The minimum scrypt work factor (log2 N) for a passphrase keyslot: 2^18 ≈ 256 MiB of memory.
///
/// # Security
/// age calibrates the work factor to about one second on the machine that writes the keyslot;
/// on a slow laptop that could fall below what resists an offline attack on a seized disk, so we
/// never write less than this.
pub const MIN_WORK_FACTOR: u8 = 18;

/// The highest scrypt work factor we accept when *opening* a keyslot (2^22 ≈ 4 GiB, tens of
/// seconds). A keyslot is our own file, but a tampered one must not make unlock take hours.
pub const MAX_KEYSLOT_WORK_FACTOR: u8 = 22;

/// Largest keyslot file we read (a real one is well under 1 KiB).
const MAX_KEYSLOT_BYTES: u64 = 64 * 1024;

const KEYSLOT_FORMAT: u32 = 1;

/// Length of an unencrypted minisign secret key in its binary form.
const DEVICE_KEY_BYTES: usize = 158;

/// The vault secrets, in memory. Boxed so the `mlock`ed range never moves.
pub struct VaultSecrets {
    inner: Box<SecretsInner>,
}

#[derive(Zeroize, ZeroizeOnDrop)]
struct SecretsInner {
    vault_id: [u8; 16],
    device_id: [u8; 16],
    db_key: [u8; 32],
    /// The device's minisign secret key (unencrypted minisign binary form, 158 bytes).
    device_key: [u8; DEVICE_KEY_BYTES],
    #[zeroize(skip)] // x25519 StaticSecret zeroizes itself on drop
    identity: age::x25519::Identity,
}

impl Drop for VaultSecrets {
    fn drop(&mut self) {
        harden::unlock_memory(&*self.inner);
    }
}

impl VaultSecrets {
    fn from_inner(inner: SecretsInner) -> Self {
        let s = VaultSecrets {
            inner: Box::new(inner),
        };
        harden::lock_memory(&*s.inner);
        s
    }

    /// Makes fresh secrets for a new vault.
    pub fn generate() -> Self {
        let mut inner = SecretsInner {
            vault_id: *Uuid::new_v4().as_bytes(),
            device_id: *Uuid::new_v4().as_bytes(),
            db_key: [0; 32],
            device_key: [0; DEVICE_KEY_BYTES],
            identity: age::x25519::Identity::generate(),
        };
        fill_random(&mut inner.db_key);
        let kp = minisign::KeyPair::generate_unencrypted_keypair()
            .expect("the operating system's random number generator failed");
        let mut sk = Zeroizing::new(kp.sk.to_bytes());
        inner.device_key.copy_from_slice(&sk);
        sk.zeroize();
        Self::from_inner(inner)
    }

    /// New secrets for key rotation: the same vault and device (and the device's signing key,
    /// which coordinators trust), a new database key and a new attachment identity.
    pub(crate) fn rotated(&self) -> Self {
        let mut inner = SecretsInner {
            vault_id: self.inner.vault_id,
            device_id: self.inner.device_id,
            db_key: [0; 32],
            device_key: self.inner.device_key,
            identity: age::x25519::Identity::generate(),
        };
        fill_random(&mut inner.db_key);
        Self::from_inner(inner)
    }

    /// The vault's id (random, made at init).
    pub fn vault_id(&self) -> Uuid {
        Uuid::from_bytes(self.inner.vault_id)
    }

    /// This device's id (random, made at init).
    pub fn device_id(&self) -> Uuid {
        Uuid::from_bytes(self.inner.device_id)
    }

    /// `x'…'`: the raw SQLCipher key as SQLCipher reads it (in `PRAGMA key` or `ATTACH … KEY`),
    /// in one allocation of its final size and wiped when dropped.
    pub(crate) fn sqlcipher_raw_key(&self) -> Zeroizing<String> {
        let mut hexkey = Zeroizing::new([0u8; 64]);
        hex::encode_to_slice(self.inner.db_key, hexkey.as_mut_slice())
            .expect("64 hex digits for 32 bytes");
        let mut raw = Zeroizing::new(String::with_capacity(67));
        raw.push_str("x'");
        raw.push_str(std::str::from_utf8(hexkey.as_slice()).expect("hex is ASCII"));
        raw.push('\'');
        raw
    }

    /// `PRAGMA key = "x'…'";`: the statement that opens the database with the raw SQLCipher
    /// key, built in one allocation of its final size (a `format!` that grows its buffer leaves
    /// the key behind in freed memory, unwiped) and wiped when dropped.
    pub(crate) fn sqlcipher_key_statement(&self) -> Zeroizing<String> {
        let raw = self.sqlcipher_raw_key();
        let (head, tail) = ("PRAGMA key = \"", "\";");
        let mut stmt = Zeroizing::new(String::with_capacity(head.len() + raw.len() + tail.len()));
        stmt.push_str(head);
        stmt.push_str(&raw);
        stmt.push_str(tail);
        stmt
    }

    /// The vault's own age identity (attachments are encrypted to it).
    pub(crate) fn identity(&self) -> &age::x25519::Identity {
        &self.inner.identity
    }

    /// The device's minisign signing key (Ed25519), used for bundle signatures.
    pub(crate) fn device_key(&self) -> super::harden::WipedMinisignKey {
        super::harden::WipedMinisignKey::new(
            minisign::SecretKey::from_bytes(&self.inner.device_key)
                .expect("a device key checked when the keyslot was read"),
        )
    }

    fn to_json(&self) -> Zeroizing<String> {
        use std::fmt::Write as _;
        let mut db = Zeroizing::new([0u8; 64]);
        hex::encode_to_slice(self.inner.db_key, db.as_mut_slice()).expect("32 bytes");
        let mut dk = Zeroizing::new([0u8; 2 * DEVICE_KEY_BYTES]);
        hex::encode_to_slice(self.inner.device_key, dk.as_mut_slice()).expect("key bytes");
        let id = self.inner.identity.to_string();
        // Large enough from the start (the slot is under 600 bytes): no grown-out copy of the
        // keys is left in freed memory.
        let mut json = Zeroizing::new(String::with_capacity(1024));
        let room = json.capacity();
        writeln!(
            json,
            "{{\"kuager_keyslot\":{KEYSLOT_FORMAT},\"vault_id\":\"{}\",\"device_id\":\"{}\",\"sqlcipher_key\":\"{}\",\"age_identity\":\"{}\",\"device_minisign_key\":\"{}\"}}",
            self.vault_id(),
            self.device_id(),
            std::str::from_utf8(db.as_slice()).expect("hex"),
            id.expose_secret(),
            std::str::from_utf8(dk.as_slice()).expect("hex"),
        )
        .expect("writing to a String");
        debug_assert_eq!(json.capacity(), room, "the keyslot text outgrew its buffer");
        json
    }

    fn from_json(path: &Path, plain: &[u8]) -> Result<Self> {
        #[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
        #[serde(deny_unknown_fields)]
        struct Slot {
            kuager_keyslot: u32,
            vault_id: String,
            device_id: String,
            sqlcipher_key: String,
            age_identity: String,
            device_minisign_key: String,
        }
        let bad = |reason: &str| Error::Keyslot {
            path: path.to_owned(),
            reason: reason.to_owned(),
        };
        let slot: Slot =
            serde_json::from_slice(plain).map_err(|_| bad("not a Kuager keyslot (unreadable)"))?;
        if slot.kuager_keyslot != KEYSLOT_FORMAT {
            return Err(bad(
                "written by a newer Kuager: update Kuager to open this vault",
            ));
        }
        let mut inner = SecretsInner {
            vault_id: *Uuid::from_str(&slot.vault_id)
                .map_err(|_| bad("bad vault_id"))?
                .as_bytes(),
            device_id: *Uuid::from_str(&slot.device_id)
                .map_err(|_| bad("bad device_id"))?
                .as_bytes(),
            db_key: [0; 32],
            device_key: [0; DEVICE_KEY_BYTES],
            identity: age::x25519::Identity::from_str(&slot.age_identity)
                .map_err(|_| bad("bad age_identity"))?,
        };
        hex::decode_to_slice(&slot.sqlcipher_key, &mut inner.db_key)
            .map_err(|_| bad("bad sqlcipher_key"))?;
        hex::decode_to_slice(&slot.device_minisign_key, &mut inner.device_key)
            .map_err(|_| bad("bad device_minisign_key"))?;
        let sk = minisign::SecretKey::from_bytes(&inner.device_key)
            .map_err(|_| bad("bad device_minisign_key"))?;
        if sk.is_encrypted() {
            return Err(bad("device_minisign_key fails its checksum"));
        }
        Ok(Self::from_inner(inner))
    }
}

/// This device's public signing key, as `minisign` and coordinators see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePublicKey {
    /// The minisign public key line (base64), what `minisign -P` takes.
    pub minisign: String,
    /// The minisign key id (16 hex digits), shown by `minisign` as the key's name.
    pub key_id: String,
    /// A short fingerprint to read aloud: the key id in groups of four.
    pub fingerprint: String,
}

impl VaultSecrets {
    /// The device's public signing key.
    pub fn device_public_key(&self) -> DevicePublicKey {
        let sk = self.device_key();
        let pk =
            minisign::PublicKey::from_secret_key(&sk).expect("a minisign key holds its public key");
        let mut id = pk.keynum().to_vec();
        id.reverse(); // minisign prints the key id as a little-endian number
        let key_id = hex::encode_upper(&id);
        let fingerprint = key_id
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).expect("hex"))
            .collect::<Vec<_>>()
            .join("-");
        DevicePublicKey {
            minisign: pk.to_base64(),
            key_id,
            fingerprint,
        }
    }

    /// Signs `data` in minisign's format (Ed25519 over BLAKE2b-512 of the data); the result is the
    /// text of a `.minisig` file that `minisign -Vm FILE -P KEY` verifies.
    pub fn sign_minisign(&self, data: &[u8], trusted_comment: &str) -> Result<String> {
        let sk = self.device_key();
        let pk =
            minisign::PublicKey::from_secret_key(&sk).map_err(|e| Error::Crypto(e.to_string()))?;
        let sig = minisign::sign(
            Some(&pk),
            &sk,
            std::io::Cursor::new(data),
            Some(trusted_comment),
            Some("signature from a Kuager device key"),
        )
        .map_err(|e| Error::Crypto(e.to_string()))?;
        Ok(sig.into_string())
    }
}

/// Why a minisign signature was not accepted ([`verify_minisign`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// The public key is not a minisign key.
    Key,
    /// The signature is not the text of a minisign signature.
    Malformed,
    /// The signature is not by that key over those bytes.
    Mismatch,
}

/// The minisign key id as minisign prints it (the key number, little-endian, in hex).
pub fn minisign_key_id(pk: &minisign::PublicKey) -> String {
    let mut id = pk.keynum().to_vec();
    id.reverse();
    hex::encode_upper(id)
}

/// The Ed25519 key inside a minisign public key (base64 of `Ed` ‖ key id ‖ 32 bytes): what
/// identifies a device. The key id is 8 bytes its owner chooses, so the same key can come with
/// another id (and another base64 string): every comparison of devices, and every fingerprint,
/// uses these 32 bytes. `None` for anything but a minisign Ed25519 public key.
pub fn ed25519_key(public_key: &str) -> Option<[u8; 32]> {
    use base64::prelude::{Engine, BASE64_STANDARD};
    let raw = BASE64_STANDARD.decode(public_key.trim()).ok()?;
    if raw.len() != 42 || &raw[..2] != b"Ed" {
        return None;
    }
    raw[10..].try_into().ok()
}

/// Checks that `sig_text` (a `.minisig` file's text) is a signature of `data` by the minisign
/// public key `public_key` (base64); returns the key's id. minisign 0.10 takes the trusted
/// comment's signature (the fourth line) as 64 bytes without checking its length, and panicked
/// on another (found by the `import` fuzz target): it is checked here first.
pub fn verify_minisign(
    public_key: &str,
    data: &[u8],
    sig_text: &str,
) -> std::result::Result<String, SignatureError> {
    if ed25519_key(public_key).is_none() {
        return Err(SignatureError::Key);
    }
    let pk = minisign::PublicKey::from_base64(public_key).map_err(|_| SignatureError::Key)?;
    let global_sig_ok = sig_text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .nth(3)
        .and_then(|l| {
            use base64::prelude::{Engine, BASE64_STANDARD};
            BASE64_STANDARD.decode(l.trim()).ok()
        })
        .is_some_and(|b| b.len() == 64);
    if !global_sig_ok {
        return Err(SignatureError::Malformed);
    }
    let sig_box =
        minisign::SignatureBox::from_string(sig_text).map_err(|_| SignatureError::Malformed)?;
    minisign::verify(
        &pk,
        &sig_box,
        std::io::Cursor::new(data),
        true,
        false,
        false,
    )
    .map_err(|_| SignatureError::Mismatch)?;
    Ok(minisign_key_id(&pk))
}

/// Where a keyslot of each kind lives.
pub fn passphrase_slot_path(vault_dir: &Path) -> PathBuf {
    vault_dir.join("keyslots").join("passphrase.age")
}

/// A new recovery keyslot's path: a random name, so that a seized disk does not tell whose
/// organisation key opens it (an earlier name was a fingerprint of that key).
pub fn new_recovery_slot_path(vault_dir: &Path) -> PathBuf {
    vault_dir
        .join("keyslots")
        .join(format!("recovery-{}.age", fsutil::random_name()))
}

/// The vault's recovery keyslots, in name order.
pub fn recovery_slots(vault_dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(vault_dir.join("keyslots"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("recovery-") && n.ends_with(".age"))
        })
        .collect();
    out.sort();
    out
}

/// Destroys a keyslot file: overwritten with random bytes and synced, then removed. On SSDs and
/// copy-on-write file systems the overwrite may not reach the old blocks (docs/threat-model.md).
/// Fails only if the file can be neither overwritten nor removed (one already gone is no error).
pub fn destroy_slot(path: &Path) -> Result<()> {
    let len = fs::metadata(path).map(|m| m.len()).unwrap_or(0) as usize;
    let mut noise = vec![0u8; len.max(1)];
    fill_random(&mut noise);
    let wipe = fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|mut f| {
            f.write_all(&noise)?;
            f.sync_all()
        });
    // Already gone is destroyed.
    let removed = match fs::remove_file(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    };
    match (wipe, removed) {
        (Err(e), Err(_)) => Err(Error::io("destroying a keyslot")(e)),
        _ => Ok(()),
    }
}

/// Gives a recovery keyslot named by a fingerprint of its key (vaults written before the
/// names were random: 16 hex digits) a random name. Returns where the slot is now.
pub fn rename_fingerprint_slot(vault_dir: &Path, slot: &Path) -> Result<PathBuf> {
    let stem = slot
        .file_name()
        .and_then(|f| f.to_str())
        .and_then(|f| f.strip_prefix("recovery-"))
        .and_then(|f| f.strip_suffix(".age"))
        .unwrap_or_default();
    if stem.len() != 16 {
        return Ok(slot.to_owned());
    }
    let new = new_recovery_slot_path(vault_dir);
    fs::rename(slot, &new).map_err(Error::io("renaming a recovery keyslot"))?;
    fsutil::sync_dir(&vault_dir.join("keyslots"))?;
    Ok(new)
}

/// Writes a keyslot holding `secrets` for `recipient`, atomically (R3): temp file, fsync,
/// rename, fsync of the folder. At no point is there no valid keyslot under `path`.
fn write_slot(path: &Path, recipient: &dyn age::Recipient, secrets: &VaultSecrets) -> Result<()> {
    let enc = age::Encryptor::with_recipients(std::iter::once(recipient))
        .map_err(|e| Error::Crypto(e.to_string()))?;
    let plain = secrets.to_json();
    let mut out = Vec::with_capacity(plain.len() + 512);
    let mut w = enc
        .wrap_output(&mut out)
        .map_err(|e| Error::Crypto(e.to_string()))?;
    w.write_all(plain.as_bytes())
        .and_then(|_| w.finish().map(|_| ()))
        .map_err(|e| Error::Crypto(e.to_string()))?;
    fsutil::write_atomic(path, &out)
}

/// Encrypts `secrets` under `passphrase` into the passphrase keyslot (scrypt work factor
/// calibrated to ~1 s on this machine, never below [`MIN_WORK_FACTOR`], or exactly `work_factor`
/// when given).
pub fn write_passphrase_slot(
    vault_dir: &Path,
    passphrase: &Passphrase,
    secrets: &VaultSecrets,
    work_factor: Option<u8>,
) -> Result<()> {
    write_passphrase_slot_at(
        &passphrase_slot_path(vault_dir),
        passphrase,
        secrets,
        work_factor,
    )
}

/// [`write_passphrase_slot`] to another path (key rotation writes the new slot beside the old).
pub(crate) fn write_passphrase_slot_at(
    path: &Path,
    passphrase: &Passphrase,
    secrets: &VaultSecrets,
    work_factor: Option<u8>,
) -> Result<()> {
    let mut r = age::scrypt::Recipient::new(passphrase.secret());
    let log_n = match work_factor {
        Some(n) if n == 0 || n > MAX_KEYSLOT_WORK_FACTOR => {
            return Err(Error::Crypto(format!(
                "scrypt work factor {n} is outside 1–{MAX_KEYSLOT_WORK_FACTOR}"
            )))
        }
        Some(n) => n,
        None => calibrated_work_factor(passphrase)?.max(MIN_WORK_FACTOR),
    };
    r.set_work_factor(log_n);
    write_slot(path, &r, secrets)
}

/// What age's own calibration picks on this machine (it targets about one second).
pub(crate) fn calibrated_work_factor(passphrase: &Passphrase) -> Result<u8> {
    // age does not expose its calibration; read it back from the header of a tiny file it writes.
    let bytes = age::encrypt(&age::scrypt::Recipient::new(passphrase.secret()), b"")
        .map_err(|e| Error::Crypto(e.to_string()))?;
    Ok(keyslot_work_factor(&bytes).unwrap_or(MIN_WORK_FACTOR))
}

/// The scrypt work factor recorded in an age file's header, if it has a scrypt stanza.
pub fn keyslot_work_factor(age_file: &[u8]) -> Option<u8> {
    age_file
        .split(|&b| b == b'\n')
        .take(64)
        .take_while(|l| !l.starts_with(b"---"))
        .filter_map(|l| std::str::from_utf8(l).ok())
        .find_map(|l| l.strip_prefix("-> scrypt "))
        .and_then(|rest| rest.split(' ').nth(1))
        .and_then(|n| n.trim().parse().ok())
}

/// Writes a recovery keyslot for the organisation's age X25519 recipient at `path` (a new one
/// from [`new_recovery_slot_path`], or the one this recipient had, to replace it).
pub fn write_recovery_slot(
    path: &Path,
    recipient: &age::x25519::Recipient,
    secrets: &VaultSecrets,
) -> Result<()> {
    write_slot(path, recipient, secrets)
}

fn read_slot(path: &Path) -> Result<Vec<u8>> {
    let f = fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::Keyslot {
            path: path.to_owned(),
            reason: "missing: the vault cannot be opened without it (restore it from a backup)"
                .into(),
        },
        _ => Error::io(format!("reading {}", path.display()))(e),
    })?;
    let mut buf = Vec::new();
    f.take(MAX_KEYSLOT_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(Error::io(format!("reading {}", path.display())))?;
    if buf.len() as u64 > MAX_KEYSLOT_BYTES {
        return Err(Error::Keyslot {
            path: path.to_owned(),
            reason: "larger than 64 KiB, so not a keyslot Kuager wrote (restore it from a backup)"
                .into(),
        });
    }
    Ok(buf)
}

fn decrypt_slot(path: &Path, bytes: &[u8], identity: &dyn age::Identity) -> Result<VaultSecrets> {
    let dec = age::Decryptor::new_buffered(bytes).map_err(|_| Error::Keyslot {
        path: path.to_owned(),
        reason: "damaged (not an age file)".into(),
    })?;
    let mut r = dec
        .decrypt(std::iter::once(identity))
        .map_err(|e| match e {
            // scrypt reports a wrong passphrase as a failed decryption of the file key.
            age::DecryptError::NoMatchingKeys
            | age::DecryptError::KeyDecryptionFailed
            | age::DecryptError::DecryptionFailed => Error::WrongPassphrase,
            age::DecryptError::ExcessiveWork { .. } => Error::Keyslot {
                path: path.to_owned(),
                reason: "asks for an unreasonable amount of work to open (tampered?)".into(),
            },
            other => Error::Keyslot {
                path: path.to_owned(),
                reason: format!("damaged: {other}"),
            },
        })?;
    let mut plain = Zeroizing::new(Vec::new());
    r.read_to_end(&mut plain).map_err(|_| Error::Keyslot {
        path: path.to_owned(),
        reason: "damaged (authentication failed)".into(),
    })?;
    VaultSecrets::from_json(path, &plain)
}

/// Opens the passphrase keyslot.
pub fn open_with_passphrase(vault_dir: &Path, passphrase: &Passphrase) -> Result<VaultSecrets> {
    let path = passphrase_slot_path(vault_dir);
    let bytes = read_slot(&path)?;
    let mut id = age::scrypt::Identity::new(passphrase.secret());
    id.set_max_work_factor(MAX_KEYSLOT_WORK_FACTOR);
    decrypt_slot(&path, &bytes, &id)
}

/// Opens the recovery keyslot made for the organisation's age identity (`AGE-SECRET-KEY-1…`),
/// trying each; returns the secrets and the slot that opened.
pub fn open_with_recovery(
    vault_dir: &Path,
    identity: &age::x25519::Identity,
) -> Result<(VaultSecrets, PathBuf)> {
    let mut damaged = None;
    for path in recovery_slots(vault_dir) {
        let bytes = read_slot(&path)?;
        match decrypt_slot(&path, &bytes, identity) {
            Ok(s) => return Ok((s, path)),
            // An X25519 slot made for another key reports no match (mapped to a wrong passphrase).
            Err(Error::WrongPassphrase) => {}
            Err(e) => damaged = damaged.or(Some(e)),
        }
    }
    Err(damaged.unwrap_or_else(|| Error::Keyslot {
        path: vault_dir.join("keyslots"),
        reason: "no recovery keyslot of this vault opens with this key: use the organisation key the vault was given for recovery".into(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A keyslot is read whole up to 64 KiB (a real one is under 1 KiB); a bigger file is
    /// refused as no keyslot of ours, not cut short and then reported as damaged.
    #[test]
    fn a_keyslot_file_over_64_kib_is_refused_as_not_a_keyslot() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("passphrase.age");
        fs::write(&p, vec![b'x'; 64 * 1024]).unwrap();
        assert_eq!(read_slot(&p).unwrap().len(), 64 * 1024);
        fs::write(&p, vec![b'x'; 64 * 1024 + 1]).unwrap();
        let e = read_slot(&p).unwrap_err().to_string();
        assert!(e.contains("larger than 64 KiB"), "{e}");
    }

    /// Secrets built as text are built in one allocation of their final size: a buffer that
    /// grows leaves the earlier, smaller copy in freed memory, where nothing wipes it.
    #[test]
    fn key_texts_never_outgrow_their_first_buffer() {
        let s = VaultSecrets::generate();
        let stmt = s.sqlcipher_key_statement();
        assert_eq!(stmt.capacity(), stmt.len(), "{}", stmt.len());
        assert!(stmt.starts_with("PRAGMA key = \"x'") && stmt.ends_with("'\";"));
        let json = s.to_json();
        assert!(
            json.len() < 1024 && json.capacity() == 1024,
            "{}",
            json.len()
        );
    }

    /// A vault and its device are named by random ids, kept in the keyslot with the keys.
    #[test]
    fn a_vault_and_its_device_get_ids_of_their_own() {
        let (a, b) = (VaultSecrets::generate(), VaultSecrets::generate());
        assert!(!a.vault_id().is_nil() && !a.device_id().is_nil());
        assert_ne!(a.vault_id(), a.device_id());
        assert_ne!(a.vault_id(), b.vault_id());
        assert_ne!(a.device_id(), b.device_id());
        let again = VaultSecrets::from_json(Path::new("slot"), a.to_json().as_bytes()).unwrap();
        assert_eq!(
            (again.vault_id(), again.device_id()),
            (a.vault_id(), a.device_id())
        );
    }

    /// A keyslot destroyed is overwritten in place (another name for the same file sees only
    /// noise) and gone; one that is already gone is no error; one that can be neither
    /// overwritten nor removed is.
    #[test]
    fn a_destroyed_keyslot_is_overwritten_then_removed() {
        let t = tempfile::tempdir().unwrap();
        let slot = t.path().join("passphrase.age");
        let secret = vec![b'k'; 600];
        fs::write(&slot, &secret).unwrap();
        let other_name = t.path().join("same-file");
        fs::hard_link(&slot, &other_name).unwrap();
        destroy_slot(&slot).unwrap();
        assert!(!slot.exists());
        let left = fs::read(&other_name).unwrap();
        assert_eq!(left.len(), secret.len());
        assert!(
            left.iter().filter(|&&b| b == b'k').count() < 60,
            "not overwritten"
        );
        destroy_slot(&slot).unwrap();
        let folder = t.path().join("a-folder");
        fs::create_dir(&folder).unwrap();
        assert!(destroy_slot(&folder).is_err());
    }

    /// A passphrase with spare room (a line read from a terminal) is moved to an exact-size
    /// buffer and the roomy one is wiped: the secret container would otherwise shrink it.
    #[test]
    fn a_passphrase_keeps_its_text_whatever_its_buffer_and_never_prints_it() {
        let mut line = String::with_capacity(64);
        line.push_str("river lantern orchard violet");
        let p = Passphrase::new(line);
        assert_eq!(p.expose(), "river lantern orchard violet");
        let json: Passphrase = serde_json::from_str("\"amber walnut glacier\"").unwrap();
        assert_eq!(json.expose(), "amber walnut glacier");
        assert_eq!(format!("{json:?}"), "Passphrase(…)");
    }
}
