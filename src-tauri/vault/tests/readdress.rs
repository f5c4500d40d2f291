//! Format 2 with tools we did not write (docs/bundle-format.md): attachments re-addressed to a
//! bundle's own key, never decrypted on the way, open with Go `age` and that key to exactly the
//! bytes attached, whatever their size around the 64 KiB chunk edges; `minisign` verifies the
//! manifest, which binds each payload; the coordinator's vault holds the same bytes.

use std::io::Read;
use std::process::Command;

use testkit::bundles::*;
use testkit::fixture::*;
use vault::bundle::ExportScope;
use vault::AttachMeta;

/// Sizes around the edges of age's 64 KiB STREAM chunks, and a few MiB.
const SIZES: [usize; 7] = [0, 1, 65_535, 65_536, 65_537, 3 * 65_536, (3 << 20) + 5];

fn content(size: usize, seed: u8) -> Vec<u8> {
    (0..size)
        .map(|i| {
            (i as u32)
                .wrapping_mul(2_654_435_761)
                .rotate_left(seed as u32) as u8
        })
        .collect()
}

#[test]
fn go_age_opens_every_readdressed_attachment_with_the_bundle_key() {
    let mut org = coordinator();
    let (t, mut cw) = caseworker(&mut org, "caseworker");
    let p = add_person(&mut cw, "Сенбай");
    let tid = add_testimony(&mut cw, p, "the account");
    let mut attached = Vec::new();
    for (k, size) in SIZES.iter().enumerate() {
        let bytes = content(*size, k as u8);
        cw.attach(tid, &bytes[..], AttachMeta::default()).unwrap();
        attached.push(bytes);
    }
    let bundle = export(&mut cw, ExportScope::All, &t.path().join("out"));

    // Go age and tar, as a coordinator without Kuager would.
    let out = t.path().join("x");
    std::fs::create_dir_all(&out).unwrap();
    let key = t.path().join("org.key");
    {
        use age::secrecy::ExposeSecret;
        std::fs::write(&key, org.identity.to_string().expose_secret()).unwrap();
    }
    let x = testkit::cli::sh(&format!(
        "cd '{}' && age -d -i '{}' '{}' | tar -x",
        out.display(),
        key.display(),
        bundle.display()
    ));
    assert!(x.status.success(), "{}", String::from_utf8_lossy(&x.stderr));
    let root = out.join("kuager-bundle");
    let v = Command::new("minisign")
        .arg("-Vm")
        .arg(root.join("manifest.json"))
        .arg("-P")
        .arg(cw.device_public_key().unwrap().minisign)
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("manifest.json")).unwrap()).unwrap();
    let list = manifest["attachments"].as_array().unwrap();
    assert_eq!(list.len(), SIZES.len());
    for a in list {
        let file = root.join(a["path"].as_str().unwrap());
        // To standard output: Go age creates no -o file for an empty plaintext.
        let d = Command::new("age")
            .arg("-d")
            .arg("-i")
            .arg(root.join("bundle.key"))
            .arg(&file)
            .output()
            .unwrap();
        assert!(d.status.success(), "{}", String::from_utf8_lossy(&d.stderr));
        let got = d.stdout;
        assert!(
            attached.contains(&got),
            "{}: not an attached file",
            a["path"]
        );
        assert_eq!(a["sha256"].as_str().unwrap(), sha(&got));
        assert_eq!(a["size"].as_u64().unwrap(), got.len() as u64);
        let bytes = std::fs::read(&file).unwrap();
        let start = age_header_len(&bytes).unwrap();
        assert_eq!(a["payload_sha256"].as_str().unwrap(), sha(&bytes[start..]));
        assert_eq!(
            a["payload_size"].as_u64().unwrap(),
            (bytes.len() - start) as u64
        );
        // The name says nothing about the content.
        assert!(!a["path"].as_str().unwrap().contains(&sha(&got)[..16]));
    }

    // The coordinator's vault, re-addressed again on import, holds the same bytes.
    let r = org.v.import(&bundle, &Default::default()).unwrap();
    assert_eq!((r.format, r.new_blobs), (2, SIZES.len()));
    for bytes in &attached {
        let mut back = Vec::new();
        org.v
            .open_attachment(&sha(bytes))
            .unwrap()
            .read_to_end(&mut back)
            .unwrap();
        assert!(back == *bytes, "{} bytes came back different", bytes.len());
    }
    assert!(org.v.verify().unwrap().problems.is_empty());
}

/// The vault file's payload travels byte for byte: the bundle's copy of an attachment and the
/// caseworker's own file differ only in their headers.
#[test]
fn only_the_header_changes_between_the_vault_and_the_bundle() {
    let mut org = coordinator();
    let (t, mut cw) = caseworker(&mut org, "caseworker");
    let p = add_person(&mut cw, "Сенбай");
    let tid = add_testimony(&mut cw, p, "the account");
    cw.attach(tid, &content(200_000, 3)[..], AttachMeta::default())
        .unwrap();
    let vault_files = testkit::canary::files_under(&t.path().join("cw").join("blobs"));
    assert_eq!(vault_files.len(), 1);
    let own = &vault_files[0].1;
    let bundle = export(&mut cw, ExportScope::All, &t.path().join("out"));
    let entries = open_bundle(&bundle, &org.identity);
    let (_, inner) = entries.iter().find(|(p, _)| p.contains("/blobs/")).unwrap();
    let (a, b) = (age_header_len(own).unwrap(), age_header_len(inner).unwrap());
    assert_eq!(own[a..], inner[b..], "the payload was re-encrypted");
    assert_ne!(own[..a], inner[..b]);
}

/// A passphrase bundle (scrypt outside) carries re-addressed attachments like any other.
#[test]
fn a_passphrase_bundle_carries_readdressed_attachments() {
    let mut org = coordinator();
    let (t, mut cw) = caseworker(&mut org, "caseworker");
    let ok = confirmed(&mut cw);
    cw.set_passphrase_bundles(true, Some(ok)).unwrap();
    let p = add_person(&mut cw, "Сенбай");
    let tid = add_testimony(&mut cw, p, "the account");
    let bytes = content(70_000, 9);
    cw.attach(tid, &bytes[..], AttachMeta::default()).unwrap();
    let dest = t.path().join("out");
    std::fs::create_dir_all(&dest).unwrap();
    let phrase = "correct horse battery staple kazakh steppe";
    let opts = vault::bundle::ExportOptions {
        scope: ExportScope::All,
        extra_recipients: vec![],
        confirmed: None,
        output: dest.clone(),
        armor: false,
        passphrase: Some(vault::Passphrase::new(phrase.into())),
        cancel: None,
        limits: Default::default(),
    };
    let bundle = cw
        .export(&opts, &mut |_| {})
        .unwrap()
        .bundles
        .remove(0)
        .path;
    let r = org
        .v
        .import(
            &bundle,
            &vault::bundle::ImportOptions {
                passphrase: Some(vault::Passphrase::new(phrase.into())),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!((r.format, r.new_blobs), (2, 1));
    let mut back = Vec::new();
    org.v
        .open_attachment(&sha(&bytes))
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert!(back == bytes);
}
