//! A coordinator receives bundles in the real app (issue #12): two caseworkers' vaults,
//! prepared with the `kuager` command, export to the organisation's key. The coordinator picks
//! their bundles and an altered copy; each is reviewed before anything is written — the known
//! device's with what it brings, the unknown device's held until it is trusted after its
//! fingerprint is compared, the altered copy refused with its reason. Both are imported with
//! progress. Then the first device is revoked on the Devices screen, and its next bundle is
//! refused while what it sent before stays. No copy of a bundle is left in the vault folder.

use std::path::{Path, PathBuf};

use e2e::{
    choose_in_file_dialog, cli_export, coordinator_sandbox, kuager_cli, vault_dir, App, Session,
    Steps,
};
use serde_json::json;
use testkit::bundles::{files, open_bundle, seal};
use testkit::cli::Env;
use testkit::fixture::PASS;

/// A caseworker's vault (made with the `kuager` command) exporting to `org`.
fn caseworker(org: &str, names: &[&str]) -> Env {
    let env = kuager_cli();
    env.ok(
        &["recipients", "add", org, "--label", "Almaty coordinators"],
        "",
    );
    for name in names {
        add(&env, name);
    }
    env
}

fn add(env: &Env, name: &str) {
    let p = env
        .ok(
            &["add", "person"],
            &json!({"names": [{"value": name}]}).to_string(),
        )
        .trim()
        .to_owned();
    env.ok(
        &["add", "testimony"],
        &json!({"witness": p, "narrative": "held in the camp near Ghulja"}).to_string(),
    );
}

/// A new bundle of what `env` has not exported yet, moved to `dest` under `name`.
fn device_key(env: &Env) -> String {
    env.ok(&["device"], "")
}

/// Picks `file` in the Receive screen and waits for its card to settle.
fn pick(s: &Session, file: &Path, cards: usize) {
    s.type_text(
        &s.find("[data-testid=receive-files]", 20),
        file.to_str().unwrap(),
    );
    s.wait_for(
        &format!(
            "const c = [...document.querySelectorAll('[data-testid=bundle-card]')]; \
             return c.length === {cards} && !['copying', 'reviewing'].includes(c[{}].dataset.status)",
            cards - 1
        ),
        60,
        "the bundle to be reviewed",
    );
}

fn card_text(s: &Session, n: usize) -> String {
    s.exec(
        "return document.querySelectorAll('[data-testid=bundle-card]')[arguments[0]].textContent",
        json!([n]),
    )
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

fn click_in_card(s: &Session, n: usize, testid: &str) {
    let r = s.exec(
        "const b = document.querySelectorAll('[data-testid=bundle-card]')[arguments[0]].querySelector(`[data-testid=${arguments[1]}]`); if (!b) return false; b.click(); return true;",
        json!([n, testid]),
    );
    assert_eq!(r, json!(true), "no {testid} in bundle card {n}");
}

fn wait_status(s: &Session, n: usize, status: &str) {
    s.wait_for(
        &format!(
            "return document.querySelectorAll('[data-testid=bundle-card]')[{n}].dataset.status === '{status}'"
        ),
        60,
        &format!("bundle {n} to be {status}"),
    );
}

/// The same bundle, its records changed after it was signed, sealed again to the
/// organisation: only the signature tells.
fn altered_copy(bundle: &Path, identity: &age::x25519::Identity, to: &Path) -> PathBuf {
    let mut entries = open_bundle(bundle, identity);
    let records = entries
        .iter_mut()
        .find(|(n, _)| n.ends_with("records.jsonl"))
        .unwrap();
    records.1 = String::from_utf8(records.1.clone())
        .unwrap()
        .replace("Ghulja", "Almaty")
        .into_bytes();
    let org = identity.to_public().to_string();
    std::fs::write(to, seal(&files(&entries), &org)).unwrap();
    to.to_owned()
}

#[test]
fn a_coordinator_reviews_trusts_imports_and_revokes() {
    let (sb, identity) = coordinator_sandbox();
    let org = identity.to_public().to_string();

    let a = caseworker(&org, &["Сенбай Нұрахен"]);
    let b = caseworker(&org, &["Айгерім Қасым"]);
    {
        let mut v = vault::Vault::open(&vault_dir(&sb)).unwrap();
        v.unlock(&testkit::fixture::pass()).unwrap();
        v.trust_device(&device_key(&a), "Almaty laptop").unwrap();
    }
    let a1 = cli_export(&a, &sb.outside, "a1");
    let b1 = cli_export(&b, &sb.outside, "b1");
    let altered = altered_copy(&a1, &identity, &sb.outside.join("altered.age"));

    let s = sb.launch();
    s.unlock(PASS);
    s.click(&s.find("[data-testid=nav-receive]", 60));

    // The first in the system's file dialog (read where it lies), the others in the page's own
    // picker (copied in).
    s.click(&s.find("[data-testid=receive-choose]", 20));
    choose_in_file_dialog(&sb, &a1);
    s.wait_for(
        "const c = document.querySelector('[data-testid=bundle-card]'); return !!c && c.dataset.status === 'ready'",
        60,
        "the bundle chosen in the dialog to be reviewed",
    );
    let known = card_text(&s, 0);
    assert!(
        known.contains("Almaty laptop") && known.contains("2 new records"),
        "{known}"
    );
    pick(&s, &b1, 2);
    let unknown = card_text(&s, 1);
    let fingerprint = vault::profile::fingerprint(device_key(&b).lines().last().unwrap());
    assert!(
        unknown.contains("does not know") && unknown.contains(&fingerprint),
        "the unknown device's card: {unknown}"
    );
    assert!(
        !unknown.contains("new records"),
        "read before trusted: {unknown}"
    );
    pick(&s, &altered, 3);
    let refused = card_text(&s, 2);
    assert!(
        refused.contains("Refused") && refused.contains("changed after it was signed"),
        "{refused}"
    );

    click_in_card(&s, 0, "import-button");
    wait_status(&s, 0, "done");
    assert!(
        card_text(&s, 0).contains("Imported: 2 new records"),
        "{}",
        card_text(&s, 0)
    );

    let label = s.exec(
        "return document.querySelectorAll('[data-testid=bundle-card]')[1].querySelector('[data-testid=trust-label]') !== null",
        json!([]),
    );
    assert_eq!(label, json!(true));
    let input = s.find(
        "[data-testid=bundle-card]:nth-child(2) [data-testid=trust-label]",
        5,
    );
    s.type_text(&input, "Astana laptop");
    click_in_card(&s, 1, "trust-button");
    s.wait_for(
        "return document.querySelectorAll('[data-testid=bundle-card]')[1].textContent.includes('2 new records')",
        30,
        "the trusted device's bundle to be read",
    );
    click_in_card(&s, 1, "import-button");
    wait_status(&s, 1, "done");

    s.click(&s.find("[data-testid=nav-devices]", 5));
    s.wait_for(
        "return document.querySelectorAll('[data-testid=device-row]').length === 2",
        20,
        "both devices listed",
    );
    let rows = s.text(&s.find("[data-testid=devices]", 5));
    assert!(
        rows.contains("Almaty laptop") && rows.contains("Astana laptop"),
        "{rows}"
    );
    s.click(&s.find("[data-testid=device-row] [data-testid=revoke]", 5));
    s.type_text(&s.find("[data-testid=revoke-pass]", 5), PASS);
    s.click(&s.find("[data-testid=revoke-confirm]", 5));
    s.find("[data-testid=device-revoked]", 20);

    add(&a, "Нұрлан Сенбай");
    let a2 = cli_export(&a, &sb.outside, "a2");
    s.click(&s.find("[data-testid=nav-receive]", 5));
    pick(&s, &a2, 1);
    let revoked = card_text(&s, 0);
    assert!(
        revoked.contains("Refused") && revoked.contains("device you revoked"),
        "{revoked}"
    );
    s.quit();
    sb.assert_no_network_calls();

    let mut v = vault::Vault::open(&vault_dir(&sb)).unwrap();
    v.unlock(&testkit::fixture::pass()).unwrap();
    assert_eq!(
        v.list(None).unwrap().len(),
        4,
        "two people and two testimonies"
    );
    assert!(
        v.search("Нұрлан", 5).unwrap().is_empty(),
        "the revoked device's later bundle"
    );
    let devices = v.devices().unwrap();
    assert_eq!(devices.len(), 2);
    assert!(devices
        .iter()
        .any(|d| d.label == "Almaty laptop" && d.revoked_at.is_some()));
    let left = std::fs::read_dir(vault_dir(&sb).join("incoming"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(left, 0, "copies of bundles left in the vault folder");
    assert!(
        a1.exists(),
        "the bundle chosen in the dialog is the user's, and stays"
    );
}
