//! Hostile format-2 bundles (docs/bundle-format.md "Reading", docs/threat-model.md R7): the
//! signature is checked before anything after it is read; every entry must be the next one the
//! manifest lists and match it as it streams; a re-addressed attachment whose payload was
//! altered, cut short or swapped, or whose header was altered, is refused; so is a manifest
//! listing an attachment twice, and any entry before the manifest. Each refusal is specific and
//! leaves the coordinator's vault as it was (no attachment file left behind).

use std::io::Read;
use std::path::PathBuf;

use testkit::bundles::*;
use testkit::fixture::*;
use vault::bundle::ExportScope;
use vault::{AttachMeta, Error, Vault};

struct Material {
    entries: Vec<(String, Vec<u8>)>,
    cw: Vault,
    stranger: Vault,
    good: PathBuf,
    _tmp: tempfile::TempDir,
}

/// A real bundle with two attachments, taken apart: one larger than the 1 MiB an import holds
/// whole (streamed through two threads, `crypto/arriving.rs`), one smaller (held). The cases
/// that reach the attachments name which one they alter; those about a single attachment's
/// listing are made for each.
fn material(org: &mut Org) -> Material {
    let (t, mut cw) = caseworker(org, "caseworker");
    let p = add_person(&mut cw, "Сенбай");
    let tid = add_testimony(&mut cw, p, "the account");
    let scan: Vec<u8> = (0..1_200_000u32).map(|i| (i % 253) as u8).collect();
    cw.attach(tid, &scan[..], AttachMeta::default()).unwrap();
    cw.attach(tid, &b"a short note"[..], AttachMeta::default())
        .unwrap();
    let good = export(&mut cw, ExportScope::All, &t.path().join("out"));
    Material {
        entries: open_bundle(&good, &org.identity),
        stranger: new_vault(&t.path().join("stranger")),
        good,
        cw,
        _tmp: t,
    }
}

fn blob_indices(e: &[(String, Vec<u8>)]) -> Vec<usize> {
    (0..e.len())
        .filter(|&i| e[i].0.contains("/blobs/"))
        .collect()
}

type Entries = Vec<(String, Vec<u8>)>;
/// A case: what, the bundle's bytes, words the refusal must contain.
type Case = (&'static str, Vec<u8>, &'static str);

/// Entries that do not match the signed manifest, or come in another order.
fn streamed(m: &Material, to: &str) -> Vec<Case> {
    let e = &m.entries;
    let blobs = blob_indices(e);
    let (big, small) = if e[blobs[0]].1.len() > e[blobs[1]].1.len() {
        (blobs[0], blobs[1])
    } else {
        (blobs[1], blobs[0])
    };
    let with = |f: &dyn Fn(&mut Entries)| {
        let mut x = e.clone();
        f(&mut x);
        seal(&files(&x), to)
    };
    let payload_at = |b: &[u8]| age_header_len(b).unwrap();
    vec![
        (
            "payload altered",
            with(&|x| {
                let at = payload_at(&x[big].1) + 70_000;
                x[big].1[at] ^= 0x20;
            }),
            "does not match the manifest",
        ),
        (
            "payload altered near its end",
            with(&|x| {
                let at = x[big].1.len() - 1000;
                x[big].1[at] ^= 0x20;
            }),
            "does not match the manifest",
        ),
        (
            "small payload altered",
            with(&|x| {
                let at = x[small].1.len() - 5;
                x[small].1[at] ^= 0x20;
            }),
            "does not match the manifest",
        ),
        (
            "payload cut short",
            with(&|x| {
                let n = x[big].1.len() - 100;
                x[big].1.truncate(n);
            }),
            "does not match the manifest",
        ),
        (
            "payloads swapped",
            with(&|x| {
                let (a, b) = (x[big].1.clone(), x[small].1.clone());
                x[big].1 = b;
                x[small].1 = a;
            }),
            "does not match the manifest",
        ),
        (
            "header MAC altered",
            with(&|x| {
                let mac = x[big].1.windows(4).position(|w| w == b"--- ").unwrap() + 10;
                x[big].1[mac] = if x[big].1[mac] == b'A' { b'B' } else { b'A' };
            }),
            "header was altered",
        ),
        (
            "header for another key",
            with(&|x| {
                let other = age::x25519::Identity::generate();
                let f = age::encrypt(&other.to_public(), b"a short note").unwrap();
                x[small].1 = f;
            }),
            // A header of another length than an exporter's: refused before it is read.
            "does not match the manifest",
        ),
        (
            "entry before the manifest",
            with(&|x| {
                let readme = x.remove(2);
                x.insert(0, readme);
            }),
            "must come first",
        ),
        (
            "signature not second",
            with(&|x| {
                let sig = x.remove(1);
                x.insert(2, sig);
            }),
            "must follow it",
        ),
        (
            "entries out of order",
            with(&|x| x.swap(3, 4)),
            "not the next one the manifest lists",
        ),
        (
            "an attachment missing",
            with(&|x| {
                x.remove(small);
            }),
            "not in the bundle",
        ),
        (
            "an entry after the last",
            with(&|x| {
                let again = x[small].clone();
                x.push(again);
            }),
            "not in the manifest",
        ),
        (
            "bundle.key replaced",
            with(&|x| {
                use age::secrecy::ExposeSecret;
                let k = age::x25519::Identity::generate();
                x[3].1 = format!("{}\n", k.to_string().expose_secret()).into_bytes();
            }),
            "does not match the manifest",
        ),
    ]
}

/// Manifests no exporter writes, signed by the trusted caseworker; a signature by a stranger.
fn signed(m: &Material, to: &str) -> Vec<Case> {
    let e = &m.entries;
    let resigned = |f: &dyn Fn(&mut Entries), extra: Vec<serde_json::Value>| {
        let mut x = e.clone();
        f(&mut x);
        resign_listing(&mut x, &m.cw, &extra);
        seal(&files(&x), to)
    };
    let manifest: serde_json::Value = serde_json::from_slice(&e[0].1).unwrap();
    let listed = manifest["attachments"][0].clone();
    let mut same_content = listed.clone();
    same_content["path"] = format!("blobs/{}.age", "ab".repeat(16)).into();
    // The manifest names content the attachment does not hold (a coerced device vouching for
    // a file under another file's name): caught by decrypting it on the way in, large or small.
    let lying = |i: usize| {
        let mut lying = e.clone();
        let mut manifest_v: serde_json::Value = serde_json::from_slice(&lying[0].1).unwrap();
        let fake = b"the content another caseworker will attach";
        manifest_v["attachments"][i]["sha256"] = sha(fake).into();
        let bytes = serde_json::to_vec_pretty(&manifest_v).unwrap();
        lying[1].1 = m.cw.sign(&bytes, "test").unwrap().into_bytes();
        lying[0].1 = bytes;
        seal(&files(&lying), to)
    };
    // The manifest states another payload hash, the content being right: only the payload
    // hash can catch it.
    let misstated = |i: usize| {
        let mut x = e.clone();
        let mut manifest_v: serde_json::Value = serde_json::from_slice(&x[0].1).unwrap();
        manifest_v["attachments"][i]["payload_sha256"] = sha(b"another payload").into();
        let bytes = serde_json::to_vec_pretty(&manifest_v).unwrap();
        x[1].1 = m.cw.sign(&bytes, "test").unwrap().into_bytes();
        x[0].1 = bytes;
        seal(&files(&x), to)
    };
    // A GNU long-name entry first, 8 MiB: refused for what it is, never read whole.
    let mut raws = files(e);
    raws.insert(
        0,
        Raw::Header(
            b"././@LongLink".to_vec(),
            tar::EntryType::GNULongName,
            vec![b'a'; 8 << 20],
        ),
    );
    let long_name = seal(&raws, to);
    // The signature's last line (the trusted comment's signature) 60 bytes instead of 64:
    // panicked inside minisign before it was checked (found by fuzzing).
    let mut short_sig = e.clone();
    let text = String::from_utf8(short_sig[1].1.clone()).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    {
        use base64::prelude::{Engine, BASE64_STANDARD};
        let last = lines.len() - 1;
        lines[last] = BASE64_STANDARD.encode([7u8; 60]);
    }
    short_sig[1].1 = (lines.join("\n") + "\n").into_bytes();
    let short_sig = seal(&files(&short_sig), to);
    let mut out = vec![
        ("a long-name entry first", long_name, "outside"),
        (
            "a signature of the wrong length",
            short_sig,
            "not a minisign signature",
        ),
        (
            "payload hash misstated (first attachment)",
            misstated(0),
            "does not match the manifest",
        ),
        (
            "payload hash misstated (second attachment)",
            misstated(1),
            "does not match the manifest",
        ),
        (
            "content other than the manifest names (first attachment)",
            lying(0),
            "does not hold the content the manifest names",
        ),
        (
            "content other than the manifest names (second attachment)",
            lying(1),
            "does not hold the content the manifest names",
        ),
        (
            "an attachment listed twice",
            resigned(&|_| {}, vec![listed]),
            "twice",
        ),
        (
            "one content under two names",
            resigned(&|_| {}, vec![same_content]),
            "twice",
        ),
        (
            "an attachment named by its content",
            resigned(
                &|x| {
                    let sha = sha(&attachments_of(x)[0].1);
                    let i = blob_indices(x)[0];
                    x[i].0 = format!("kuager-bundle/blobs/{sha}.age");
                },
                vec![],
            ),
            "unexpected attachment name",
        ),
    ];
    // Signed by a device nobody trusts, followed by an entry that would be refused on its own
    // (a link): the signature is what is reported, so nothing after it was looked at.
    let mut by_stranger = e.clone();
    resign(&mut by_stranger, &m.stranger);
    let mut raws = files(&by_stranger);
    raws.insert(
        2,
        Raw::Header(
            b"kuager-bundle/README.txt".to_vec(),
            tar::EntryType::Symlink,
            vec![],
        ),
    );
    out.push(("signed by a stranger", seal(&raws, to), "unknown"));
    out
}

#[test]
fn hostile_format2_bundles_are_refused_and_change_nothing() {
    let mut org = coordinator();
    let m = material(&mut org);
    let to = org.recipient.clone();
    let all = [streamed(&m, &to), signed(&m, &to)].concat();
    assert_eq!(all.len(), 23);
    for (name, bytes, reason) in all {
        let before = snapshot(&org);
        let path = org
            .tmp
            .path()
            .join(format!("{}.kuager.age", name.replace(' ', "-")));
        std::fs::write(&path, bytes).unwrap();
        match org.v.import(&path, &Default::default()) {
            Err(e @ Error::Rejected(_)) => assert!(e.to_string().contains(reason), "{name}: {e}"),
            Err(e @ Error::UnknownSigner { .. }) => {
                assert!(reason == "unknown", "{name}: {e}")
            }
            other => panic!("{name}: expected a refusal, got {other:?}"),
        }
        assert_eq!(snapshot(&org), before, "{name}: the vault changed");
        let left: Vec<_> = testkit::canary::files_under(&org.dir.join("blobs"))
            .into_iter()
            .filter(|(p, _)| !before.1.contains(p))
            .collect();
        assert!(left.is_empty(), "{name}: files left behind");
    }
    assert!(org.v.verify().unwrap().problems.is_empty());
    let r = org.v.import(&m.good, &Default::default()).unwrap();
    assert_eq!((r.format, r.new_blobs), (2, 2));
    assert!(org.v.verify().unwrap().problems.is_empty());
}

/// Inspecting a format-2 bundle from a device nobody trusts names the device and reads
/// nothing after the manifest: no attachment written, no records parsed, nothing noted.
#[test]
fn inspecting_an_untrusted_signers_bundle_reads_nothing_after_the_manifest() {
    let mut org = coordinator();
    let m = material(&mut org);
    let mut e = m.entries.clone();
    resign(&mut e, &m.stranger);
    // A line no parser would take, after the manifest: never reached.
    for (p, b) in e.iter_mut() {
        if p.ends_with("records.jsonl") {
            b.extend_from_slice(b"{ not json\n");
        }
    }
    let path = org.tmp.path().join("stranger.kuager.age");
    std::fs::write(&path, seal(&files(&e), &org.recipient)).unwrap();
    let before = snapshot(&org);
    let r = org.v.inspect(&path, &Default::default()).unwrap();
    let key = m.stranger.device_public_key().unwrap();
    assert_eq!((r.signer.key_id, r.format, r.read), (key.key_id, 2, false));
    assert_eq!((r.new_records, r.new_blobs, r.committed), (0, 0, false));
    assert_eq!(snapshot(&org), before);
    assert!(testkit::canary::files_under(&org.dir.join("blobs")).is_empty());
    assert!(org.v.verify().unwrap().problems.is_empty());
}

/// Attachments whose payload is exactly the 1 MiB an import holds whole, and one byte more
/// (streamed), arrive as they were attached.
#[test]
fn attachments_at_the_held_boundary_arrive_whole() {
    let mut org = coordinator();
    let (t, mut cw) = caseworker(&mut org, "caseworker");
    let p = add_person(&mut cw, "Сенбай");
    // 16 chunks of 64 KiB: nonce 16 + plaintext + 16 × 16 tag bytes = 1,048,576 (+1).
    let bodies: Vec<Vec<u8>> = [1_048_304usize, 1_048_305]
        .iter()
        .map(|&n| (0..n).map(|i| (i % 251) as u8 ^ (n as u8)).collect())
        .collect();
    for b in &bodies {
        cw.attach(p, &b[..], AttachMeta::default()).unwrap();
    }
    let bundle = export(&mut cw, ExportScope::All, &t.path().join("out"));
    let entries = open_bundle(&bundle, &org.identity);
    let sizes: Vec<u64> = blob_indices(&entries)
        .into_iter()
        .map(|i| (entries[i].1.len() - age_header_len(&entries[i].1).unwrap()) as u64)
        .collect();
    assert!(
        sizes.contains(&(1 << 20)) && sizes.contains(&((1 << 20) + 1)),
        "{sizes:?}"
    );
    org.v.import(&bundle, &Default::default()).unwrap();
    for body in &bodies {
        let sha = sha(body);
        let mut got = Vec::new();
        org.v
            .open_attachment(&sha)
            .unwrap()
            .read_to_end(&mut got)
            .unwrap();
        assert!(&got == body, "attachment {sha} differs after import");
    }
}
