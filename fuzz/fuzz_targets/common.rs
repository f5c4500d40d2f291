//! What the fuzz targets share: one real vault, made once per run.

use std::sync::{Mutex, OnceLock};

use vault::{CreateOptions, Passphrase, Vault};

static VAULT: OnceLock<(tempfile::TempDir, Mutex<Vault>)> = OnceLock::new();

/// The run's vault (a light keyslot: fuzzing is about the importer, not scrypt) and its folder.
pub fn vault() -> &'static (tempfile::TempDir, Mutex<Vault>) {
    VAULT.get_or_init(|| {
        let t = tempfile::tempdir().unwrap();
        let v = Vault::create(
            &t.path().join("v"),
            &Passphrase::new("fuzzing vault passphrase".into()),
            CreateOptions { work_factor: Some(10), ..Default::default() },
        )
        .unwrap();
        (t, Mutex::new(v))
    })
}
