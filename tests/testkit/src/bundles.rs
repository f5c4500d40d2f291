//! Bundles between a coordinator and caseworkers, and hand-made hostile ones: the set-up the
//! bundle tests share, and the tools to take a bundle apart, alter it and seal it again.

use std::io::Read;
use std::path::{Path, PathBuf};

use vault::bundle::{ExportOptions, ExportScope};
use vault::{RecordId, Vault};

use crate::canary::files_under;
use crate::fixture::{confirmed, new_vault};

/// A coordinator: a vault holding an organisation identity.
pub struct Org {
    /// The temporary folder everything lives in.
    pub tmp: tempfile::TempDir,
    /// The coordinator's vault folder.
    pub dir: PathBuf,
    /// The coordinator's vault, unlocked.
    pub v: Vault,
    /// The organisation identity (also inside the vault).
    pub identity: age::x25519::Identity,
    /// Its public key, which caseworkers export to.
    pub recipient: String,
}

/// A coordinator's vault holding a new organisation identity (imported from a key file).
pub fn coordinator() -> Org {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("coord");
    let mut v = new_vault(&dir);
    let id_file = t.path().join("org.key");
    let identity = age::x25519::Identity::generate();
    {
        use age::secrecy::ExposeSecret;
        std::fs::write(
            &id_file,
            format!("{}\n", identity.to_string().expose_secret()),
        )
        .unwrap();
    }
    let recipient = v
        .import_identity_file(&id_file, Some("org"))
        .unwrap()
        .remove(0);
    Org {
        tmp: t,
        dir,
        v,
        identity,
        recipient,
    }
}

/// A caseworker's vault exporting to `org`, whose device `org` trusts under `name`.
pub fn caseworker(org: &mut Org, name: &str) -> (tempfile::TempDir, Vault) {
    let t = tempfile::tempdir().unwrap();
    let mut v = new_vault(&t.path().join("cw"));
    let ok = confirmed(&mut v);
    v.add_recipient(&org.recipient.parse().unwrap(), Some("org"), ok)
        .unwrap();
    org.v
        .trust_device(&v.device_public_key().unwrap().minisign, name)
        .unwrap();
    (t, v)
}

/// Exports `scope` of `v` into the folder `dest`; the bundle's path (one bundle expected).
pub fn export(v: &mut Vault, scope: ExportScope, dest: &Path) -> PathBuf {
    std::fs::create_dir_all(dest).unwrap();
    let opts = ExportOptions {
        scope,
        extra_recipients: vec![],
        confirmed: None,
        output: dest.to_owned(),
        armor: false,
        passphrase: None,
        cancel: None,
        limits: Default::default(),
    };
    let mut bundles = v.export(&opts, &mut |_| {}).unwrap().bundles;
    assert_eq!(bundles.len(), 1, "one bundle expected");
    bundles.remove(0).path
}

/// What must not change when a bundle is refused: record heads, attachment files, and the
/// audit log apart from rejection events.
pub type Snapshot = (Vec<(RecordId, Vec<String>)>, Vec<PathBuf>, usize);

/// The coordinator's [`Snapshot`].
pub fn snapshot(org: &Org) -> Snapshot {
    let mut heads: Vec<(RecordId, Vec<String>)> = org
        .v
        .list(None)
        .unwrap()
        .into_iter()
        .map(|s| {
            let h = org
                .v
                .get(s.id)
                .unwrap()
                .heads
                .iter()
                .map(|r| r.id.to_string())
                .collect();
            (s.id, h)
        })
        .collect();
    heads.sort();
    let mut blobs: Vec<PathBuf> = files_under(&org.dir.join("blobs"))
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    blobs.sort();
    let audit = org
        .v
        .audit()
        .unwrap()
        .iter()
        .filter(|e| e.event["type"] != "bundle_rejected")
        .count();
    (heads, blobs, audit)
}

/// Decrypts a bundle into its tar entries (path, bytes), for tests that alter it.
pub fn open_bundle(path: &Path, id: &age::x25519::Identity) -> Vec<(String, Vec<u8>)> {
    let bytes = std::fs::read(path).unwrap();
    let plain = age::decrypt(id, &bytes).unwrap();
    let mut a = tar::Archive::new(&plain[..]);
    a.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let p = e.path().unwrap().to_string_lossy().into_owned();
            let mut b = Vec::new();
            e.read_to_end(&mut b).unwrap();
            (p, b)
        })
        .collect()
}

/// A tar entry to seal into a hand-made bundle.
pub enum Raw {
    /// A regular file: name and content.
    File(String, Vec<u8>),
    /// A header written by hand: any name bytes, any entry type, optional link target.
    Header(Vec<u8>, tar::EntryType, Vec<u8>),
}

/// A tar of `entries`, age-encrypted to `to` (an `age1…` key).
pub fn seal(entries: &[Raw], to: &str) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for e in entries {
        match e {
            Raw::File(p, b) => {
                let mut h = tar::Header::new_ustar();
                h.set_size(b.len() as u64);
                h.set_mode(0o600);
                h.set_entry_type(tar::EntryType::Regular);
                tar.append_data(&mut h, p, &b[..]).unwrap();
            }
            Raw::Header(name, kind, data) => {
                let mut h = tar::Header::new_old();
                h.as_old_mut().name[..name.len()].copy_from_slice(name);
                h.set_entry_type(*kind);
                h.set_size(data.len() as u64);
                h.set_mode(0o600);
                if *kind == tar::EntryType::Symlink || *kind == tar::EntryType::Link {
                    h.as_old_mut().linkname[..7].copy_from_slice(b"/etc/pw");
                    h.set_size(0);
                }
                h.set_cksum();
                tar.append(&h, &data[..]).unwrap();
            }
        }
    }
    let plain = tar.into_inner().unwrap();
    let r: age::x25519::Recipient = to.parse().unwrap();
    age::encrypt(&r, &plain).unwrap()
}

/// SHA-256 in hex.
pub fn sha(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

/// Rebuilds manifest.json for `entries` (keeping the original's other fields) and signs it:
/// a format-2 manifest, first in the archive, when the entries hold a `bundle.key`; else a
/// format-1 manifest, last.
pub fn resign(entries: &mut Vec<(String, Vec<u8>)>, signer: &Vault) {
    resign_listing(entries, signer, &[]);
}

/// [`resign`], with `extra` lines in the manifest's list of entries (format 1) or of
/// attachments (format 2).
pub fn resign_listing(
    entries: &mut Vec<(String, Vec<u8>)>,
    signer: &Vault,
    extra: &[serde_json::Value],
) {
    let old: Option<serde_json::Value> = entries
        .iter()
        .find(|(p, _)| p.ends_with("/manifest.json"))
        .and_then(|(_, b)| serde_json::from_slice(b).ok());
    entries.retain(|(p, _)| !p.ends_with("manifest.json") && !p.ends_with("manifest.json.minisig"));
    let format2 = entries.iter().any(|(p, _)| p.ends_with("/bundle.key"));
    let mut manifest = serde_json::json!({
        "format": "kuager-bundle", "version": 1, "bundle_id": uuid_like(), "created_at": "2026-11-28T00:00:00.000Z",
        "source": { "vault_id": "x", "device_id": "x", "device_public_key": signer.device_public_key().unwrap().minisign, "label": null },
        "recipients": [], "scope": { "records": "all" }, "counts": {},
    });
    if format2 {
        let key = bundle_key(entries);
        let mut list = Vec::new();
        let mut attachments = Vec::new();
        for (p, b) in entries.iter() {
            let rel = p.trim_start_matches("kuager-bundle/");
            if rel.starts_with("blobs/") {
                let payload = &b[age_header_len(b).unwrap_or(0)..];
                let (sha256, size) = match age::decrypt(&key, b) {
                    Ok(plain) => (sha(&plain), plain.len() as u64),
                    // Altered on purpose: what the original manifest said.
                    Err(_) => {
                        let was = old.as_ref().and_then(|m| {
                            m["attachments"]
                                .as_array()?
                                .iter()
                                .find(|a| a["path"] == rel)
                                .cloned()
                        });
                        let was = was.expect("an attachment the original manifest lists");
                        (
                            was["sha256"].as_str().unwrap().to_owned(),
                            was["size"].as_u64().unwrap(),
                        )
                    }
                };
                attachments.push(serde_json::json!({
                    "path": rel, "sha256": sha256, "size": size,
                    "payload_sha256": sha(payload), "payload_size": payload.len(),
                }));
            } else {
                list.push(serde_json::json!({ "path": rel, "size": b.len(), "sha256": sha(b) }));
            }
        }
        attachments.extend_from_slice(extra);
        manifest["version"] = 2.into();
        manifest["entries"] = list.into();
        manifest["attachments"] = attachments.into();
    } else {
        let mut list: Vec<serde_json::Value> = entries
            .iter()
            .map(|(p, b)| {
                serde_json::json!({ "path": p.trim_start_matches("kuager-bundle/"), "size": b.len(), "sha256": sha(b) })
            })
            .collect();
        list.extend_from_slice(extra);
        manifest["entries"] = list.into();
    }
    let bytes = serde_json::to_vec_pretty(&manifest).unwrap();
    let sig = signer.sign(&bytes, "test").unwrap();
    let signed = [
        ("kuager-bundle/manifest.json".to_owned(), bytes),
        (
            "kuager-bundle/manifest.json.minisig".to_owned(),
            sig.into_bytes(),
        ),
    ];
    if format2 {
        entries.splice(0..0, signed);
    } else {
        entries.extend(signed);
    }
}

/// The identity in a format-2 bundle's `bundle.key`.
pub fn bundle_key(entries: &[(String, Vec<u8>)]) -> age::x25519::Identity {
    let text = &entries
        .iter()
        .find(|(p, _)| p.ends_with("/bundle.key"))
        .expect("a format-2 bundle")
        .1;
    String::from_utf8_lossy(text)
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .expect("an identity")
        .parse()
        .unwrap()
}

/// The length of the binary age header at the start of `file`: through the line after `---`.
pub fn age_header_len(file: &[u8]) -> Option<usize> {
    let mac = file.windows(4).position(|w| w == b"\n---")? + 1;
    Some(mac + file[mac..].iter().position(|&b| b == b'\n')? + 1)
}

/// The attachments of a format-2 bundle, decrypted with its `bundle.key`: (entry, plaintext).
pub fn attachments_of(entries: &[(String, Vec<u8>)]) -> Vec<(String, Vec<u8>)> {
    let key = bundle_key(entries);
    entries
        .iter()
        .filter(|(p, _)| p.contains("/blobs/"))
        .map(|(p, b)| (p.clone(), age::decrypt(&key, b).unwrap()))
        .collect()
}

/// A unique id of the right length for a bundle id.
pub fn uuid_like() -> String {
    format!(
        "{:032x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// Entries as regular files to seal again.
pub fn files(entries: &[(String, Vec<u8>)]) -> Vec<Raw> {
    entries
        .iter()
        .map(|(p, b)| Raw::File(p.clone(), b.clone()))
        .collect()
}

/// Everything a vault's database logically holds, decrypted into a plain SQLite file (tables,
/// indexes and the full-text index's own tables), for looking for a canary. `out` is
/// replaced if it exists (the export only fills an empty database).
pub fn plaintext_dump(dir: &Path, out: &Path) -> Vec<u8> {
    let _ = std::fs::remove_file(out);
    let key = crate::fixture::sqlcipher_key(dir);
    let c = rusqlite::Connection::open(dir.join("vault.db")).unwrap();
    c.execute_batch(&format!("PRAGMA key = \"x'{key}'\";"))
        .unwrap();
    c.execute_batch(&format!(
        "ATTACH DATABASE '{}' AS plaintext KEY ''; SELECT sqlcipher_export('plaintext'); DETACH DATABASE plaintext;",
        out.display()
    ))
    .unwrap();
    std::fs::read(out).unwrap()
}

/// Whether `needle` occurs in `hay`.
pub fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// A format-2 bundle's entries as format 1 wrote them (docs/bundle-format.md "Format 1"):
/// attachments decrypted with `bundle.key` and named by their content's SHA-256, no
/// `bundle.key`, the manifest (signed by `signer`) last. For the format-1 cases of the
/// hostile-bundle tests: format 1 is still read.
pub fn as_format1(entries: &[(String, Vec<u8>)], signer: &Vault) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = ["README.txt", "records.jsonl", "audit.jsonl"]
        .iter()
        .filter_map(|n| {
            entries
                .iter()
                .find(|(p, _)| p.ends_with(&format!("/{n}")))
                .cloned()
        })
        .collect();
    for (_, plain) in attachments_of(entries) {
        out.push((format!("kuager-bundle/blobs/{}", sha(&plain)), plain));
    }
    resign(&mut out, signer);
    out
}

/// One caseworker's real bundle (a person, a testimony, a short attachment) as exported, in
/// format 2, and the same as format 1 wrote it.
pub struct BothFormats {
    /// Format 1, sealed to the organisation.
    pub good: PathBuf,
    /// Its entries.
    pub entries: Vec<(String, Vec<u8>)>,
    /// Format 2, as exported.
    pub good2: PathBuf,
    /// Its entries.
    pub entries2: Vec<(String, Vec<u8>)>,
    /// The caseworker, trusted by `org`.
    pub cw: Vault,
    /// The folder all of it is in.
    pub tmp: tempfile::TempDir,
}

/// [`BothFormats`] for `org`.
pub fn both_formats(org: &mut Org) -> BothFormats {
    let (t, mut cw) = caseworker(org, "caseworker");
    let p = crate::fixture::add_person(&mut cw, "Сенбай");
    let tid = crate::fixture::add_testimony(&mut cw, p, "the account");
    cw.attach(
        tid,
        &b"scan of a passport"[..],
        vault::AttachMeta::default(),
    )
    .unwrap();
    let good2 = export(&mut cw, ExportScope::All, &t.path().join("out"));
    let entries2 = open_bundle(&good2, &org.identity);
    let entries = as_format1(&entries2, &cw);
    let good = t.path().join("format1.kuager.age");
    std::fs::write(&good, seal(&files(&entries), &org.recipient)).unwrap();
    BothFormats {
        good,
        entries,
        good2,
        entries2,
        cw,
        tmp: t,
    }
}
