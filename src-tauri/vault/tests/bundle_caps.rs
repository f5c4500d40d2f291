//! The caps (docs/bundle-format.md "Caps", `vault::bundle::BundleLimits`) in both formats: a
//! bundle past any of them is refused and changes nothing; each is exact.

use testkit::bundles::*;
use vault::bundle::{BundleLimits, ImportOptions};
use vault::{Error, Vault};

/// Oversized entries and too many entries, against smaller caps than the defaults; both formats.
#[test]
fn bundles_over_the_caps_are_refused_and_change_nothing() {
    let mut org = coordinator();
    let m = both_formats(&mut org);
    for ((name, limits, reason), good) in [
        (
            "oversized entry",
            BundleLimits {
                records_bytes: 100,
                ..Default::default()
            },
            "larger than",
        ),
        (
            "entry count",
            BundleLimits {
                entries: 3,
                ..Default::default()
            },
            "more than 3 entries",
        ),
        (
            "oversized attachment",
            BundleLimits {
                blob_bytes: 5,
                ..Default::default()
            },
            "larger than the limit",
        ),
    ]
    .iter()
    .flat_map(|case| [(*case, &m.good), (*case, &m.good2)])
    {
        let before = snapshot(&org);
        let opts = ImportOptions {
            limits,
            ..Default::default()
        };
        match org.v.import(good, &opts) {
            Err(Error::Rejected(msg)) => assert!(msg.contains(reason), "{name}: {msg}"),
            other => panic!("{name}: expected a refusal, got {other:?}"),
        }
        assert_eq!(snapshot(&org), before, "{name}: the vault changed");
    }
    assert_eq!(
        org.v
            .import(&m.good, &Default::default())
            .unwrap()
            .new_records,
        2
    );
}

/// Each cap is exact: an entry (or a bundle) of exactly the cap is read, one byte more is
/// refused — for `records.jsonl`, attachments, the small entries held (manifest, signature) and
/// those only hashed (README, audit log), the total, and the count of entries.
#[test]
fn every_cap_takes_what_is_at_it_and_refuses_a_byte_more() {
    let mut org = coordinator();
    let m = both_formats(&mut org);
    caps_are_exact(&mut org, &m.good, &m.entries, &m.cw);
    caps_are_exact(&mut org, &m.good2, &m.entries2, &m.cw);
}

/// [`every_cap_takes_what_is_at_it_and_refuses_a_byte_more`] for the bundle `good`, whose
/// entries are `entries`.
fn caps_are_exact(
    org: &mut Org,
    good: &std::path::Path,
    entries: &[(String, Vec<u8>)],
    cw: &Vault,
) {
    let size = |name: &str| {
        entries
            .iter()
            .find(|(p, _)| p.ends_with(name))
            .map(|(_, b)| b.len() as u64)
            .unwrap()
    };
    // The same bundle with a README and audit log of one byte: the manifest is then the
    // largest small entry (in the bundle as exported, the README is).
    let mut plain = entries.to_vec();
    for (p, b) in plain.iter_mut() {
        if p.ends_with("README.txt") || p.ends_with("audit.jsonl") {
            *b = b"x".to_vec();
        }
    }
    resign(&mut plain, cw);
    let small_manifest = org
        .tmp
        .path()
        .join(format!("small-manifest-{}.kuager.age", entries.len()));
    std::fs::write(&small_manifest, seal(&files(&plain), &org.recipient)).unwrap();
    let largest = |e: &[(String, Vec<u8>)], names: &[&str]| {
        e.iter()
            .filter(|(p, _)| names.iter().any(|n| p.ends_with(n)))
            .map(|(_, b)| b.len() as u64)
            .max()
            .unwrap()
    };
    let held = ["manifest.json", "manifest.json.minisig"];
    let hashed = ["README.txt", "audit.jsonl"];
    assert!(largest(entries, &hashed) > largest(entries, &held));
    assert!(largest(&plain, &held) > largest(&plain, &hashed));
    let blob = entries
        .iter()
        .find(|(p, _)| p.contains("/blobs/"))
        .map(|(_, b)| b.len() as u64)
        .unwrap();
    let total: u64 = entries.iter().map(|(_, b)| b.len() as u64).sum();
    let d = BundleLimits::default();
    for (name, file, at) in [
        (
            "records",
            good,
            BundleLimits {
                records_bytes: size("records.jsonl"),
                ..d
            },
        ),
        (
            "attachment",
            good,
            BundleLimits {
                blob_bytes: blob,
                ..d
            },
        ),
        (
            "hashed entries",
            good,
            BundleLimits {
                small_bytes: largest(entries, &hashed),
                ..d
            },
        ),
        (
            "held entries",
            &small_manifest,
            BundleLimits {
                small_bytes: largest(&plain, &held),
                ..d
            },
        ),
        (
            "total",
            good,
            BundleLimits {
                total_bytes: total,
                ..d
            },
        ),
        (
            "entries",
            good,
            BundleLimits {
                entries: entries.len(),
                ..d
            },
        ),
    ] {
        let with = |limits| ImportOptions {
            limits,
            ..Default::default()
        };
        org.v
            .inspect(file, &with(at))
            .unwrap_or_else(|e| panic!("{name}: refused at the cap: {e}"));
        let over = BundleLimits {
            records_bytes: at.records_bytes - u64::from(at.records_bytes != d.records_bytes),
            blob_bytes: at.blob_bytes - u64::from(at.blob_bytes != d.blob_bytes),
            small_bytes: at.small_bytes - u64::from(at.small_bytes != d.small_bytes),
            total_bytes: at.total_bytes - u64::from(at.total_bytes != d.total_bytes),
            entries: at.entries - usize::from(at.entries != d.entries),
        };
        match org.v.inspect(file, &with(over)) {
            Err(Error::Rejected(msg)) => {
                assert!(
                    msg.contains("larger than") || msg.contains("more than"),
                    "{name}: {msg}"
                )
            }
            other => panic!("{name}: a byte over the cap was taken: {other:?}"),
        }
    }
}
