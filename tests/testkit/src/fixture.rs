//! Vaults for tests: created in a temporary folder, unlocked, quick to open.

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};

use vault::{CreateOptions, Kind, Passphrase, RecordId, Vault};

/// The passphrase of every test vault.
pub const PASS: &str = "correct horse battery staple";

/// A small scrypt work factor so tests unlock in milliseconds (real vaults use ≥ 18).
pub const TEST_WORK_FACTOR: u8 = 10;

/// [`PASS`] as a passphrase.
pub fn pass() -> Passphrase {
    Passphrase::new(PASS.to_owned())
}

/// A new vault at `dir`, unlocked.
pub fn new_vault(dir: &Path) -> Vault {
    Vault::create(
        dir,
        &pass(),
        CreateOptions {
            work_factor: Some(TEST_WORK_FACTOR),
            ..Default::default()
        },
    )
    .expect("create vault")
}

/// A vault in its own temporary folder (removed when dropped), unlocked. Derefs to the
/// [`Vault`].
pub struct TempVault {
    /// The temporary folder; the vault is its `v` subfolder.
    pub tmp: tempfile::TempDir,
    /// The vault.
    pub vault: Vault,
}

impl TempVault {
    /// A new, empty vault.
    pub fn new() -> TempVault {
        let tmp = tempfile::tempdir().unwrap();
        let vault = new_vault(&tmp.path().join("v"));
        TempVault { tmp, vault }
    }

    /// The vault folder.
    pub fn dir(&self) -> PathBuf {
        self.vault.dir().to_owned()
    }

    /// Closes the vault (as quitting the app would), keeping its folder: hold on to what this
    /// returns for as long as the folder is needed.
    pub fn close(self) -> tempfile::TempDir {
        drop(self.vault);
        self.tmp
    }

    /// A path in the temporary folder, outside the vault.
    pub fn outside(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }
}

impl Default for TempVault {
    fn default() -> Self {
        TempVault::new()
    }
}

impl Deref for TempVault {
    type Target = Vault;
    fn deref(&self) -> &Vault {
        &self.vault
    }
}

impl DerefMut for TempVault {
    fn deref_mut(&mut self) -> &mut Vault {
        &mut self.vault
    }
}

/// A vault made and closed again: its temporary folder (keep it alive) and the vault folder.
pub fn closed_vault() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("v");
    drop(new_vault(&dir));
    (tmp, dir)
}

/// The passphrase typed again, as a change to who reads what leaves the vault needs.
pub fn confirmed(v: &mut Vault) -> vault::Confirmed {
    v.confirm_passphrase(&pass()).expect("the test passphrase")
}

/// Adds a person with one name.
pub fn add_person(v: &mut Vault, name: &str) -> RecordId {
    let json = serde_json::json!({ "names": [{ "value": name }] });
    v.add(Kind::Person, json.to_string().as_bytes())
        .expect("add person")
        .record
}

/// Adds a testimony of `witness`.
pub fn add_testimony(v: &mut Vault, witness: RecordId, narrative: &str) -> RecordId {
    let json = serde_json::json!({ "witness": witness, "narrative": narrative });
    v.add(Kind::Testimony, json.to_string().as_bytes())
        .expect("add testimony")
        .record
}

/// Attaches the file at `path` to record `id`, with its file name and `media_type`.
pub fn attach_file(v: &mut Vault, id: RecordId, path: &Path, media_type: &str) {
    let f = std::fs::File::open(path).expect("the file to attach");
    let meta = vault::AttachMeta {
        name: path.file_name().map(|n| n.to_string_lossy().into_owned()),
        caption: None,
        media_type: Some(media_type.to_owned()),
        custody: None,
    };
    v.attach(id, f, meta).expect("attach");
}

/// Adds a renunciation attempt of `person`, given as JSON fields besides the person.
pub fn add_attempt(v: &mut Vault, person: RecordId, fields: serde_json::Value) -> RecordId {
    let mut json = fields;
    json["person"] = serde_json::json!(person);
    v.add(Kind::Attempt, json.to_string().as_bytes())
        .expect("add attempt")
        .record
}

/// The vault's raw SQLCipher key, in hex, read the way docs/recovery.md tells a user to:
/// passphrase → keyslot → `sqlcipher_key`.
pub fn sqlcipher_key(dir: &Path) -> String {
    let slot = std::fs::read(dir.join("keyslots/passphrase.age")).unwrap();
    let id = age::scrypt::Identity::new(PASS.to_owned().into());
    let plain = age::decrypt(&id, &slot).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    v["sqlcipher_key"].as_str().unwrap().to_owned()
}

/// The vault's database opened the way docs/recovery.md tells a user to: passphrase →
/// keyslot → raw key, with a plain SQLCipher connection.
pub fn raw_db(dir: &Path) -> rusqlite::Connection {
    let key = sqlcipher_key(dir);
    let c = rusqlite::Connection::open(dir.join("vault.db")).unwrap();
    c.execute_batch(&format!("PRAGMA key = \"x'{key}'\";"))
        .unwrap();
    c
}
