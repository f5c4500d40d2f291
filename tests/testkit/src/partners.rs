//! Partner organisations (docs/design-notes.md "Partner bundles"): a partner's key from Go
//! `age-keygen`, a bundle sent to it, opened as a partner without Kuager would (Go `age`,
//! `tar`), or imported by a partner's own Kuager vault.

use std::path::{Path, PathBuf};
use std::process::Command;

use vault::{PartnerExport, RecordId, Vault};

use crate::fixture::{confirmed, new_vault};

/// A partner's key pair from Go `age-keygen`: (identity file, public key).
pub fn partner_key(dir: &Path, name: &str) -> (PathBuf, String) {
    let (secret, public) = crate::goage::keygen();
    let file = dir.join(format!("{name}.key"));
    std::fs::write(&file, secret).unwrap();
    (file, public)
}

/// Adds the partner `label` by its key, after the test passphrase.
pub fn add_partner(v: &mut Vault, key: &str, label: &str) {
    let ok = confirmed(v);
    v.add_partner(&key.parse().unwrap(), label, ok).unwrap();
}

/// Writes a bundle to `partner` of `records` (everything that may go, for `None`) into the
/// folder `dest`; its path (one bundle expected).
pub fn send(v: &mut Vault, partner: &str, records: Option<Vec<RecordId>>, dest: &Path) -> PathBuf {
    std::fs::create_dir_all(dest).unwrap();
    let job = PartnerExport {
        partner: partner.into(),
        records,
        output: dest.to_owned(),
        armor: false,
        cancel: None,
        limits: Default::default(),
        previewed: None,
    };
    let (mut report, _) = v.export_to_partner(&job, &mut |_| {}).unwrap();
    assert_eq!(report.bundles.len(), 1);
    report.bundles.remove(0).path
}

/// Opens a bundle the way a partner without Kuager would: Go `age` with the partner's key,
/// `tar -x`, then every attachment with Go `age` and `bundle.key`. Returns the folder.
pub fn open_with_go_age(bundle: &Path, key: &Path, out: &Path) -> PathBuf {
    std::fs::create_dir_all(out).unwrap();
    let tar = out.join("bundle.tar");
    let run = |c: &mut Command| {
        let o = c.output().unwrap();
        assert!(
            o.status.success(),
            "{c:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    run(Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(key)
        .arg("-o")
        .arg(&tar)
        .arg(bundle));
    run(Command::new("tar").arg("-xf").arg(&tar).arg("-C").arg(out));
    let root = out.join("kuager-bundle");
    if let Ok(blobs) = std::fs::read_dir(root.join("blobs")) {
        for b in blobs {
            let b = b.unwrap().path();
            let plain = b.with_extension("plain");
            run(Command::new("age")
                .arg("-d")
                .arg("-i")
                .arg(root.join("bundle.key"))
                .arg("-o")
                .arg(&plain)
                .arg(&b));
        }
    }
    root
}

/// Every byte under `dir`.
pub fn all_bytes(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for (_, b) in crate::canary::files_under(dir) {
        out.extend(b);
    }
    out
}

/// The revisions of an opened bundle's `records.jsonl`.
pub fn records_of(root: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(root.join("records.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A partner's own Kuager vault: its identity from the key file, the coordinator's device
/// trusted.
pub fn partner_vault(dir: &Path, key: &Path, org: &Vault) -> Vault {
    let mut v = new_vault(dir);
    v.import_identity_file(key, Some("ours")).unwrap();
    v.trust_device(
        &org.device_public_key().unwrap().minisign,
        "Atajurt coordinators",
    )
    .unwrap();
    v
}
