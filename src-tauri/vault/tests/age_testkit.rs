//! The C2SP/CCTV age test vectors, through our decryption path for files from outside
//! (`vault::bundle::decrypt_outside`). The vectors ship in the `age` crate's published package
//! (`tests/testdata/testkit`); we find them through `cargo metadata` rather than copy them.

use std::io::Read;
use std::path::PathBuf;

use sha2::Digest;
use vault::{Error, Passphrase};

/// This machine's target triple: metadata for it alone needs no package that was never fetched
/// (the workspace's desktop app pulls in crates for other platforms).
fn host_triple() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = std::process::Command::new(rustc)
        .arg("-vV")
        .output()
        .expect("rustc runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_owned()
}

fn testkit_dir() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    let out = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--filter-platform",
            &host_triple(),
            "--manifest-path",
        ])
        .arg(&manifest)
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let age = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "age")
        .expect("the age crate is a dependency");
    PathBuf::from(age["manifest_path"].as_str().unwrap())
        .parent()
        .unwrap()
        .join("tests/testdata/testkit")
}

struct Vector {
    expect: String,
    payload: Option<String>,
    identities: Vec<age::x25519::Identity>,
    passphrase: Option<String>,
    compressed: bool,
    body: Vec<u8>,
}

fn parse(bytes: &[u8]) -> Vector {
    let mut v = Vector {
        expect: String::new(),
        payload: None,
        identities: vec![],
        passphrase: None,
        compressed: false,
        body: vec![],
    };
    let mut rest = bytes;
    loop {
        let end = rest.iter().position(|&b| b == b'\n').expect("header line");
        let line = std::str::from_utf8(&rest[..end]).unwrap();
        rest = &rest[end + 1..];
        if line.is_empty() {
            break;
        }
        let (k, val) = line.split_once(": ").unwrap();
        match k {
            "expect" => v.expect = val.to_owned(),
            "payload" => v.payload = Some(val.to_owned()),
            "identity" => v.identities.push(val.parse().expect("x25519 identity")),
            "passphrase" => v.passphrase = Some(val.to_owned()),
            "compressed" => v.compressed = val == "zlib",
            _ => {}
        }
    }
    v.body = if v.compressed {
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(rest)
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        rest.to_vec()
    };
    v
}

#[test]
fn age_testkit_vectors_all_give_the_expected_outcome() {
    let dir = testkit_dir();
    let mut n = 0;
    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let v = parse(&std::fs::read(&path).unwrap());
        let pass = v.passphrase.clone().map(Passphrase::new);
        let result = vault::bundle::decrypt_outside(&v.body[..], &v.identities, pass.as_ref())
            .and_then(|mut r| {
                let mut out = Vec::new();
                r.read_to_end(&mut out).map_err(|e| {
                    Error::Rejected(vault::Rejection::new(
                        vault::RejectReason::Damaged,
                        format!("read: {e}"),
                    ))
                })?;
                Ok(out)
            });
        match (v.expect.as_str(), result) {
            ("success", Ok(out)) => {
                let sha = hex::encode(sha2::Sha256::digest(&out));
                assert_eq!(Some(sha), v.payload, "{name}: wrong plaintext");
            }
            ("success", Err(e)) => panic!("{name}: expected success, got {e}"),
            ("no match", Err(Error::Rejected(m))) => assert!(
                m.contains("not addressed") || m.contains("passphrase does not open"),
                "{name}: {m}"
            ),
            // The age crate keeps reading legacy stanzas without a short final line and lists
            // these two as its own known deviations (its tests/testkit.rs); the file still
            // authenticates (header MAC and payload), so accepting it is safe.
            ("header failure", Ok(_))
                if ["stanza_missing_body", "stanza_missing_final_line"]
                    .contains(&name.as_str()) => {}
            (other, Ok(_)) => panic!("{name}: expected {other}, but it decrypted"),
            (_, Err(Error::Rejected(_))) => {}
            (_, Err(e)) => panic!("{name}: not a refusal: {e:?}"),
        }
        *outcomes.entry(v.expect).or_default() += 1;
        n += 1;
    }
    // age 0.12.1 carries 123 (docs/threat-model.md says so): fewer means vectors were lost on
    // the way; another count, another age, to be read and written down again.
    assert_eq!(n, 123, "vectors found in {}", dir.display());
    eprintln!("{n} vectors: {outcomes:?}");
}

/// Re-addressing (docs/bundle-format.md) changes nothing but who can open a file: for every
/// vector of X25519 identities, the file re-addressed to a new key decrypts exactly when the
/// original does, to the same bytes. Re-addressing reads binary files only (armored ones are
/// refused), and reads stanzas strictly (the age crate's two legacy deviations are refused).
#[test]
fn readdressed_vectors_open_exactly_when_the_originals_do() {
    let dir = testkit_dir();
    let decrypt = |body: &[u8], ids: &[age::x25519::Identity]| -> Option<Vec<u8>> {
        let d = age::Decryptor::new_buffered(body).ok()?;
        let mut r = d
            .decrypt(ids.iter().map(|i| i as &dyn age::Identity))
            .ok()?;
        let mut out = Vec::new();
        r.read_to_end(&mut out).ok()?;
        Some(out)
    };
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let v = parse(&std::fs::read(&path).unwrap());
        if v.identities.is_empty() {
            continue; // scrypt: inner files are X25519 only
        }
        let original = decrypt(&v.body, &v.identities);
        let to = age::x25519::Identity::generate();
        let moved = v.identities.iter().find_map(|id| {
            let mut input = &v.body[..];
            let header = vault::bundle::readdress(&mut input, id, &to.to_public()).ok()?;
            Some([header, input.to_vec()].concat())
        });
        match moved {
            Some(file) => {
                assert_eq!(
                    decrypt(&file, std::slice::from_ref(&to)),
                    original,
                    "{name}: re-addressed, it opens differently"
                );
                assert!(
                    file.starts_with(b"age-encryption.org/v1\n-> X25519 "),
                    "{name}"
                );
                let what = if original.is_some() {
                    "opens, re-addressed"
                } else {
                    "fails, re-addressed, still fails"
                };
                *seen.entry(what).or_default() += 1;
            }
            None => {
                let armored = v.body.starts_with(b"-----BEGIN");
                let legacy =
                    ["stanza_missing_body", "stanza_missing_final_line"].contains(&name.as_str());
                let what = match (original.is_some(), armored, legacy) {
                    (true, true, _) => "opens, armored: refused",
                    (true, _, true) => "opens, legacy stanza: refused",
                    (true, _, _) => panic!("{name}: opens, but was not re-addressed"),
                    (false, _, _) => "fails, refused",
                };
                *seen.entry(what).or_default() += 1;
            }
        }
    }
    eprintln!("{seen:?}");
    // age 0.12.1's vectors (see above): another count, another age, to be read again.
    let expected = [
        ("fails, re-addressed, still fails", 20), // the payload's failures: age's to find
        ("fails, refused", 61),
        ("opens, legacy stanza: refused", 2),
        ("opens, re-addressed", 14),
    ];
    assert_eq!(seen, expected.into_iter().collect(), "{seen:?}");
}

#[test]
fn a_passphrase_file_asking_for_excessive_work_is_refused_quickly() {
    let mut r = age::scrypt::Recipient::new("a passphrase".to_owned().into());
    r.set_work_factor(10);
    let good = age::encrypt(&r, b"payload").unwrap();
    let text = String::from_utf8_lossy(&good).into_owned();
    let line = text
        .lines()
        .find(|l| l.starts_with("-> scrypt "))
        .unwrap()
        .to_owned();
    let forged_line = format!("{} 40", line.rsplit_once(' ').unwrap().0);
    let at = good
        .windows(line.len())
        .position(|w| w == line.as_bytes())
        .unwrap();
    let mut forged = good.clone();
    forged.splice(at..at + line.len(), forged_line.bytes());
    let t = std::time::Instant::now();
    let p = Passphrase::new("a passphrase".into());
    let e = vault::bundle::decrypt_outside(&forged[..], &[], Some(&p))
        .err()
        .expect("refused");
    assert!(t.elapsed() < std::time::Duration::from_secs(2));
    assert!(e.to_string().contains("unreasonable amount of work"), "{e}");
    // The same file at its real work factor opens.
    let mut out = Vec::new();
    vault::bundle::decrypt_outside(&good[..], &[], Some(&p))
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    assert_eq!(out, b"payload");
}
