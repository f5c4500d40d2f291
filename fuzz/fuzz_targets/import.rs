//! The whole importer after the age layer: an arbitrary "decrypted" tar stream goes through
//! every check of docs/bundle-format.md "Reading" against a real vault. It must return an error (or import),
//! never panic, and stay within the memory limit.
#![no_main]

use std::sync::{Mutex, OnceLock};

use vault::{CreateOptions, Passphrase, Vault};

static VAULT: OnceLock<(tempfile::TempDir, Mutex<Vault>)> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (_, v) = VAULT.get_or_init(|| {
        let t = tempfile::tempdir().unwrap();
        let v = Vault::create(
            &t.path().join("v"),
            &Passphrase::new("fuzzing vault passphrase".into()),
            CreateOptions { work_factor: Some(10), ..Default::default() },
        )
        .unwrap();
        (t, Mutex::new(v))
    });
    let _ = v.lock().unwrap().fuzz_import_plaintext(data);
});
