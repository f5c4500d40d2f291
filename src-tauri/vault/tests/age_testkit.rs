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
                r.read_to_end(&mut out)
                    .map_err(|e| Error::Rejected(format!("read: {e}")))?;
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
