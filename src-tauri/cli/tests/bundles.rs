//! Bundles with tools we did not write (docs/bundle-format.md): Go `age`, `tar` and `minisign`
//! read what `kuager export` writes; a coordinator imports what Go `age` re-encrypted; passphrase
//! bundles follow the vault's policy.

use std::path::{Path, PathBuf};
use std::process::Command;

use testkit::canary::canary_hits;
use testkit::cli::*;
use testkit::fixture::new_vault;

const KUAGER: &str = env!("CARGO_BIN_EXE_kuager");

/// A caseworker's vault with a testimony and an audio attachment holding `canary`, exporting
/// to an `age-keygen` key (in `outside/coord.key`); an ssh-ed25519 key in
/// `outside/id_ed25519`; the device key in `outside/device.pub`. Returns the SSH public key.
fn caseworker_with_keys(env: &Env, canary: &str) -> String {
    let p = env
        .ok(
            &["add", "person"],
            r#"{"names":[{"value":"Сенбай Нұрахен"}]}"#,
        )
        .trim()
        .to_owned();
    let t = env
        .ok(
            &["add", "testimony"],
            &format!(r#"{{"witness":"{p}","narrative":"{canary} in the camp"}}"#),
        )
        .trim()
        .to_owned();
    let att = env.outside.join("audio.ogg");
    std::fs::write(&att, format!("{canary} audio")).unwrap();
    env.ok(&["attach", &t, att.to_str().unwrap()], "");
    let o = env.outside.display();
    assert!(sh(&format!("age-keygen -o {o}/coord.key 2>/dev/null"))
        .status
        .success());
    let key = std::fs::read_to_string(env.outside.join("coord.key")).unwrap();
    let recipient = key
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap()
        .to_owned();
    let keygen = sh(&format!("ssh-keygen -q -t ed25519 -N '' -f {o}/id_ed25519"));
    assert!(keygen.status.success());
    env.ok(
        &[
            "recipients",
            "add",
            &recipient,
            "--label",
            "Almaty coordinators",
        ],
        "",
    );
    assert!(env
        .ok(&["recipients", "list"], "")
        .contains("Almaty coordinators"));
    std::fs::write(env.outside.join("device.pub"), env.ok(&["device"], "")).unwrap();
    std::fs::read_to_string(env.outside.join("id_ed25519.pub"))
        .unwrap()
        .trim()
        .to_owned()
}

/// Go `age` opens `bundle` with either key and `tar` lists exactly the entries, in order: the
/// manifest and its signature first, one attachment under a random name.
fn listed_by_go_age_and_tar(env: &Env, bundle: &Path) {
    let (o, b) = (env.outside.display(), bundle.display());
    let listing = sh(&format!("age -d -i {o}/coord.key {b} | tar -t"));
    assert!(
        listing.status.success(),
        "{}",
        String::from_utf8_lossy(&listing.stderr)
    );
    let got: Vec<String> = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    let expected = [
        "kuager-bundle/manifest.json",
        "kuager-bundle/manifest.json.minisig",
        "kuager-bundle/README.txt",
        "kuager-bundle/bundle.key",
        "kuager-bundle/records.jsonl",
        "kuager-bundle/audit.jsonl",
    ];
    assert_eq!(got[..6], expected, "{got:?}");
    assert_eq!(got.len(), 7, "{got:?}");
    let blob = got[6].strip_prefix("kuager-bundle/blobs/").unwrap();
    let name = blob.strip_suffix(".age").unwrap();
    assert!(
        name.len() == 32 && name.bytes().all(|c| c.is_ascii_hexdigit()),
        "{blob}"
    );
    // The ssh-ed25519 recipient opens it too.
    let x = sh(&format!("age -d -i {o}/id_ed25519 {b} | tar -t | wc -l"));
    assert_eq!(String::from_utf8_lossy(&x.stdout).trim(), "7");
}

/// Extracted with Go `age` and `tar`: `minisign` verifies the manifest with the device key,
/// the manifest's sizes and hashes and the revision ids check out, and Go `age` opens the
/// attachment with `bundle.key` to the bytes attached, whose payload the manifest binds.
fn extracted_contents_check_out(env: &Env, bundle: &Path, canary: &str) {
    let (o, b) = (env.outside.display(), bundle.display());
    let out = env.outside.join("extracted");
    std::fs::create_dir_all(&out).unwrap();
    let x = sh(&format!(
        "cd {} && age -d -i {o}/coord.key {b} | tar -x",
        out.display()
    ));
    assert!(x.status.success());
    let root = out.join("kuager-bundle");
    let manifest_path = root.join("manifest.json");
    let v = Command::new("minisign")
        .args([
            "-V",
            "-p",
            &format!("{o}/device.pub"),
            "-m",
            manifest_path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    assert_eq!(manifest["format"], "kuager-bundle");
    assert_eq!(manifest["version"], 2);
    assert_eq!(manifest["counts"]["revisions"], 3);
    let entries = manifest["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 4);
    for e in entries {
        let bytes = std::fs::read(root.join(e["path"].as_str().unwrap())).unwrap();
        assert_eq!(e["size"].as_u64().unwrap(), bytes.len() as u64);
        assert_eq!(e["sha256"].as_str().unwrap(), sha256sum(&bytes));
    }
    for line in std::fs::read_to_string(root.join("records.jsonl"))
        .unwrap()
        .lines()
    {
        let rev: vault::Revision = serde_json::from_str(line).unwrap();
        assert_eq!(rev.id_matches(), Some(true), "{line}");
    }
    let a = &manifest["attachments"].as_array().unwrap()[0];
    let file = root.join(a["path"].as_str().unwrap());
    let plain = out.join("attachment");
    let d = sh(&format!(
        "age -d -i {}/bundle.key -o {} {}",
        root.display(),
        plain.display(),
        file.display()
    ));
    assert!(d.status.success(), "{}", String::from_utf8_lossy(&d.stderr));
    let content = std::fs::read(&plain).unwrap();
    assert_eq!(content, format!("{canary} audio").as_bytes());
    assert_eq!(a["sha256"].as_str().unwrap(), sha256sum(&content));
    assert_eq!(a["size"].as_u64().unwrap(), content.len() as u64);
    // The payload: everything after the age header's MAC line.
    let bytes = std::fs::read(&file).unwrap();
    let mac = bytes.windows(4).position(|w| w == b"\n---").unwrap() + 1;
    let start = mac + bytes[mac..].iter().position(|&c| c == b'\n').unwrap() + 1;
    assert_eq!(
        a["payload_sha256"].as_str().unwrap(),
        sha256sum(&bytes[start..])
    );
    assert_eq!(
        a["payload_size"].as_u64().unwrap(),
        (bytes.len() - start) as u64
    );
    std::fs::remove_file(&plain).unwrap();
}

/// docs/bundle-format.md read with tools we did not write: Go `age -d -i` (X25519 from
/// `age-keygen`, and ssh-ed25519 from `ssh-keygen`, binary and armored), `tar` sees exactly the
/// entries in order, `minisign` verifies the manifest with the key `kuager device` printed, and
/// the manifest's sizes and hashes, the revision ids and the attachment all check out.
#[test]
fn export_is_read_by_go_age_tar_and_minisign() {
    let env = Env::new(KUAGER).with_vault();
    let canary = "EXPORT-CANARY-61d2";
    let ssh_pub = caseworker_with_keys(&env, canary);
    let dest = env.home.join("Desktop");
    std::fs::create_dir_all(&dest).unwrap();
    let d = dest.to_str().unwrap();
    let bundle = PathBuf::from(env.ok(&["export", "-o", d, "--to", &ssh_pub], "").trim());
    let name = bundle.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("kuager-") && name.ends_with(".kuager.age"),
        "{name}"
    );
    assert_eq!(
        std::fs::read_dir(&dest).unwrap().count(),
        1,
        "a temp file was left behind"
    );
    assert_no_canary(&env, &[canary], "after export");
    listed_by_go_age_and_tar(&env, &bundle);
    extracted_contents_check_out(&env, &bundle, canary);

    // Nothing new for the same recipients: no second file. The cursor is per recipient set:
    // the coordinators alone have not had it yet.
    let again = env.run(&["export", "-o", d, "--to", &ssh_pub], "");
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("nothing new"));
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 1);
    env.ok(&["export", "-o", d], "");
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 2);
    let armored = env.ok(&["export", "--all", "--armor", "-o", d], "");
    let text = std::fs::read_to_string(armored.trim()).unwrap();
    assert!(text.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
    let o = env.outside.display();
    let x = sh(&format!(
        "age -d -i {o}/coord.key {} | tar -t | wc -l",
        armored.trim()
    ));
    assert_eq!(String::from_utf8_lossy(&x.stdout).trim(), "7");
    assert_no_canary(&env, &[canary], "after the exports");
    assert!(env.ok(&["audit"], "").contains("bundle exported"));
}

/// The coordinator's side with the real tools: an unknown signer is refused (exit 9, nothing
/// changed) until trusted; a bundle that Go age decrypted and re-encrypted to another key still
/// imports (the signature is inside); no canary reaches the disk outside the encrypted files.
#[test]
fn coordinator_imports_what_go_age_re_encrypted_and_refuses_unknown_signers() {
    let cw = Env::new(KUAGER).with_vault();
    let canary = "IMPORT-CANARY-77aa";
    let p = cw
        .ok(&["add", "person"], r#"{"names":[{"value":"Сенбай"}]}"#)
        .trim()
        .to_owned();
    cw.ok(
        &["add", "testimony"],
        &format!(r#"{{"witness":"{p}","narrative":"{canary}"}}"#),
    );
    let org = Env::new(KUAGER);
    let org_dir = org.outside.join("coord");
    new_vault(&org_dir);
    let od = org_dir.to_str().unwrap();
    let org_key = org
        .ok(&["identity", "new", "--label", "Almaty", "--vault", od], "")
        .trim()
        .to_owned();
    assert!(org_key.starts_with("age1"));
    cw.ok(&["recipients", "add", &org_key], "");
    let bundle = cw
        .ok(&["export", "-o", cw.outside.to_str().unwrap()], "")
        .trim()
        .to_owned();

    let refused = org.run(&["import", &bundle, "--vault", od], "");
    let (_, err) = text(&refused);
    assert_eq!(refused.status.code(), Some(9), "{err}");
    assert!(err.contains("unknown device key"), "{err}");
    assert!(org.ok(&["list", "--vault", od], "").trim().is_empty());

    // Go age: decrypt with a second organisation key file and re-encrypt to it only.
    let o = org.outside.display();
    assert!(sh(&format!("age-keygen -o {o}/second.key 2>/dev/null"))
        .status
        .success());
    let second = std::fs::read_to_string(org.outside.join("second.key")).unwrap();
    let second_pub = second
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap()
        .to_owned();
    cw.ok(&["recipients", "add", &second_pub], "");
    let both = cw
        .ok(&["export", "--all", "-o", cw.outside.to_str().unwrap()], "")
        .trim()
        .to_owned();
    let re = org.outside.join("re-encrypted.age");
    let x = sh(&format!(
        "age -d -i {o}/second.key {both} | age -r {second_pub} -o {}",
        re.display()
    ));
    assert!(x.status.success(), "{}", String::from_utf8_lossy(&x.stderr));
    let device = cw.ok(&["device"], "");
    let key_line = device.lines().nth(1).unwrap();
    org.ok(
        &[
            "trust",
            "add",
            key_line,
            "--label",
            "caseworker 1",
            "--vault",
            od,
        ],
        "",
    );
    let plan = org.ok(
        &[
            "inspect",
            re.to_str().unwrap(),
            "-i",
            &format!("{o}/second.key"),
            "--vault",
            od,
        ],
        "",
    );
    assert!(
        plan.contains("format 2\nsigned by caseworker 1") && plan.contains("2 new records"),
        "{plan}"
    );
    let done = org.ok(
        &[
            "import",
            re.to_str().unwrap(),
            "-i",
            &format!("{o}/second.key"),
            "--vault",
            od,
        ],
        "",
    );
    assert!(done.contains("imported: 2 new records"), "{done}");
    assert!(org
        .ok(&["search", "senbai", "--vault", od], "")
        .contains(&p));
    // The first bundle (to the organisation key held in the vault) adds nothing new now.
    let again = org.ok(&["import", &bundle, "--vault", od], "");
    assert!(again.contains("nothing new"), "{again}");
    assert_no_canary(&org, &[canary], "after import");
    // …nor in the coordinator's vault, the bundles or the re-encrypted copy.
    let hits = canary_hits(&org.outside, canary);
    assert!(hits.is_empty(), "{hits:?}");
    org.ok(&["verify", "--vault", od], "");
}

/// docs/bundle-format.md "Outside": a passphrase (scrypt) bundle only where the vault's policy allows it;
/// Go `age` opens it with the passphrase, the manifest carries the vault's label, and a
/// coordinator imports it with the passphrase (a wrong one is refused, changing nothing).
#[test]
fn passphrase_bundles_follow_the_vault_policy_and_open_with_go_age() {
    let cw = Env::new(KUAGER).with_vault();
    let canary = "PASSPHRASE-BUNDLE-CANARY-3b9e";
    let p = cw
        .ok(&["add", "person"], r#"{"names":[{"value":"Шынар"}]}"#)
        .trim()
        .to_owned();
    cw.ok(
        &["add", "testimony"],
        &format!(r#"{{"witness":"{p}","narrative":"{canary}"}}"#),
    );
    let bundle_pass = cw.outside.join("bundle-pass");
    let words = "river lantern orchard violet seventy";
    std::fs::write(&bundle_pass, format!("{words}\n")).unwrap();
    let export = |extra: &[&str]| {
        let mut args = vec!["export", "--passphrase", "-o", cw.outside.to_str().unwrap()];
        args.extend_from_slice(extra);
        let mut c = cw.cmd(&args);
        c.env("KUAGER_BUNDLE_PASSPHRASE_FILE", &bundle_pass);
        c.output().unwrap()
    };

    // Refused by default, with the way forward, and nothing written.
    let refused = export(&[]);
    let (_, err) = text(&refused);
    assert_eq!(refused.status.code(), Some(4), "{err}");
    assert!(err.contains("policy does not allow"), "{err}");
    assert_eq!(std::fs::read_dir(&cw.outside).unwrap().count(), 2);
    assert!(cw.ok(&["policy"], "").contains("passphrase-bundles deny"));

    cw.ok(&["policy", "passphrase-bundles", "allow"], "");
    cw.ok(&["label", "Almaty office, laptop 3"], "");
    assert_eq!(cw.ok(&["label"], "").trim(), "Almaty office, laptop 3");
    // Never mixed with key recipients (age forbids it; so do we, clearly).
    let mixed = export(&[
        "--to",
        "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
    ]);
    assert_eq!(mixed.status.code(), Some(2), "{}", text(&mixed).1);
    let done = export(&[]);
    let (bundle, err) = text(&done);
    assert!(done.status.success(), "{err}");
    assert!(err.contains("passphrase (scrypt)"), "{err}");
    let bundle = PathBuf::from(bundle.trim());
    let name = bundle.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        !name.contains("Almaty"),
        "the label is not in the file name: {name}"
    );

    // Go age with the passphrase; the manifest inside names the vault.
    let plain = cw.outside.join("bundle.tar");
    let o = testkit::goage::decrypt_with_passphrase(&bundle, &plain, words);
    assert!(
        plain.exists(),
        "Go age did not decrypt the passphrase bundle: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    let x = sh(&format!(
        "tar -xOf {} kuager-bundle/manifest.json",
        plain.display()
    ));
    let manifest: serde_json::Value = serde_json::from_slice(&x.stdout).unwrap();
    assert_eq!(manifest["source"]["label"], "Almaty office, laptop 3");
    assert_eq!(
        manifest["recipients"],
        serde_json::json!(["passphrase (scrypt)"])
    );
    std::fs::remove_file(&plain).unwrap();

    // The coordinator: a wrong passphrase is refused and changes nothing; the right one imports.
    let org = Env::new(KUAGER);
    let org_dir = org.outside.join("coord");
    new_vault(&org_dir);
    let od = org_dir.to_str().unwrap();
    let b = bundle.to_str().unwrap();
    let wrong = org.outside.join("wrong");
    std::fs::write(&wrong, "river lantern orchard violet seventy-one\n").unwrap();
    let mut c = org.cmd(&[
        "import",
        b,
        "--passphrase",
        "--trust-signer",
        "cw",
        "--vault",
        od,
    ]);
    let o = c
        .env("KUAGER_BUNDLE_PASSPHRASE_FILE", &wrong)
        .output()
        .unwrap();
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(9), "{err}");
    assert!(err.contains("passphrase does not open"), "{err}");
    assert!(org.ok(&["list", "--vault", od], "").trim().is_empty());
    let mut c = org.cmd(&[
        "import",
        b,
        "--passphrase",
        "--trust-signer",
        "cw",
        "--vault",
        od,
    ]);
    let o = c
        .env("KUAGER_BUNDLE_PASSPHRASE_FILE", &bundle_pass)
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("imported: 2 new records"), "{out}");
    assert!(org
        .ok(&["search", "Shynar", "--vault", od], "")
        .contains(&p));
    assert_no_canary(&org, &[canary], "after a passphrase import");
    assert_no_canary(&cw, &[canary], "after a passphrase export");
}
