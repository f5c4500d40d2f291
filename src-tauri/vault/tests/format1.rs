//! Bundles written by an earlier Kuager (format 1: the manifest last, attachments in plaintext
//! inside the outer layer) still import, and `inspect` says which format it read. The fixture
//! is in `tests/data/format1/` (its README says how it was made).

use std::io::Read;
use std::path::PathBuf;

use testkit::fixture::*;
use vault::bundle::ImportOptions;
use vault::Error;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/format1")
        .join(name)
}

fn id(kind: &str) -> vault::RecordId {
    std::fs::read_to_string(data("ids.txt"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{kind} ")))
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn a_format1_bundle_imports_and_says_so() {
    let t = tempfile::tempdir().unwrap();
    let mut v = new_vault(&t.path().join("coord"));
    v.import_identity_file(&data("org.key"), Some("org"))
        .unwrap();
    let bundle = data("bundle.kuager.age");
    let device = std::fs::read_to_string(data("device.pub")).unwrap();

    // Unknown signer: refused, named.
    match v.import(&bundle, &Default::default()) {
        Err(Error::UnknownSigner { public_key, .. }) => assert_eq!(public_key, device.trim()),
        other => panic!("expected an unknown signer, got {other:?}"),
    }
    let plan = v.inspect(&bundle, &Default::default()).unwrap();
    assert_eq!(
        (plan.format, plan.new_records, plan.new_revisions),
        (1, 2, 4)
    );

    let opts = ImportOptions {
        trust_signer: Some("caseworker (format 1)".into()),
        ..Default::default()
    };
    let r = v.import(&bundle, &opts).unwrap();
    assert_eq!(
        (r.format, r.new_records, r.new_revisions, r.new_blobs),
        (1, 2, 4, 1)
    );
    let testimony = v.get(id("testimony")).unwrap();
    let head = testimony.heads[0].data.as_ref().unwrap();
    assert_eq!(head["place"], "Ghulja");
    let blob = head["attachments"][0]["blob"].as_str().unwrap();
    let mut back = Vec::new();
    v.open_attachment(blob)
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    let expected: Vec<u8> = (0..150_000u32).map(|i| (i % 251) as u8).collect();
    assert!(back == expected, "the attachment came back different");
    assert!(v
        .search("Senbai", 10)
        .unwrap()
        .iter()
        .any(|h| h.summary.id == id("person")));
    assert!(v.verify().unwrap().problems.is_empty());

    // The same file again adds nothing.
    let again = v.import(&bundle, &opts).unwrap();
    assert!(!again.committed);
}
