//! A change to who can read what leaves the vault needs the passphrase typed again, not only an
//! open window (docs/threat-model.md, issue #10 items 3 and 17): a recipient added or removed,
//! a bundle to a key not among them, passphrase bundles allowed. A wrong confirmation counts
//! toward the back-off and is not an unlock.

use std::time::{Duration, Instant};

use testkit::fixture::*;
use vault::bundle::{ExportOptions, ExportScope, Recipient};
use vault::{Error, Passphrase};

fn key() -> Recipient {
    age::x25519::Identity::generate()
        .to_public()
        .to_string()
        .parse()
        .unwrap()
}

fn export_to(
    v: &mut TempVault,
    extra: Vec<Recipient>,
    ok: Option<vault::Confirmed>,
) -> vault::Result<()> {
    let dest = v.outside("out");
    std::fs::create_dir_all(&dest).unwrap();
    let opts = ExportOptions {
        scope: ExportScope::All,
        extra_recipients: extra,
        confirmed: ok,
        output: dest,
        armor: false,
        passphrase: None,
        cancel: None,
        limits: Default::default(),
    };
    v.export(&opts, &mut |_| {}).map(drop)
}

#[test]
fn allowing_passphrase_bundles_needs_the_passphrase_refusing_does_not() {
    let mut v = TempVault::new();
    assert!(matches!(
        v.set_passphrase_bundles(true, None),
        Err(Error::NeedsPassphrase)
    ));
    assert!(!v.settings().unwrap().passphrase_bundles);
    v.set_passphrase_bundles(false, None).unwrap();
    let ok = confirmed(&mut v);
    v.set_passphrase_bundles(true, Some(ok)).unwrap();
    assert!(v.settings().unwrap().passphrase_bundles);
}

#[test]
fn a_bundle_to_a_key_the_vault_does_not_know_needs_the_passphrase_again() {
    let mut v = TempVault::new();
    add_person(&mut v, "Сенбай");
    let coordinators = key();
    let ok = confirmed(&mut v);
    v.add_recipient(&coordinators, Some("coordinators"), ok)
        .unwrap();
    let stranger = key();
    assert!(matches!(
        export_to(&mut v, vec![stranger.clone()], None),
        Err(Error::NeedsPassphrase)
    ));
    assert_eq!(
        std::fs::read_dir(v.outside("out")).unwrap().count(),
        0,
        "a bundle was written"
    );
    // A key already among the recipients is no new way out; a confirmed one may go.
    export_to(&mut v, vec![coordinators], None).unwrap();
    let ok = confirmed(&mut v);
    export_to(&mut v, vec![stranger.clone()], Some(ok)).unwrap();
    let last = v.audit().unwrap().last().unwrap().event.clone();
    assert_eq!(last["type"], "bundle_exported");
    assert!(last["recipients"]
        .to_string()
        .contains(&stranger.to_string()));
}

#[test]
fn a_wrong_confirmation_counts_toward_the_back_off_and_is_no_unlock() {
    let mut v = TempVault::new();
    let unlocks = |v: &TempVault| {
        v.audit()
            .unwrap()
            .iter()
            .filter(|e| e.event["type"] == "vault_unlocked")
            .count()
    };
    let before = unlocks(&v);
    let wrong = Passphrase::new("not the passphrase at all".into());
    assert!(matches!(
        v.confirm_passphrase(&wrong),
        Err(Error::WrongPassphrase)
    ));
    let t = Instant::now();
    assert!(matches!(
        v.confirm_passphrase(&wrong),
        Err(Error::WrongPassphrase)
    ));
    assert!(
        t.elapsed() >= Duration::from_secs(2),
        "the second wrong one did not wait longer"
    );
    let ok = confirmed(&mut v);
    v.add_recipient(&key(), None, ok).unwrap();
    assert_eq!(
        unlocks(&v),
        before,
        "a confirmation was logged as an unlock"
    );
    // Still unlocked, and the recipient change is in the audit log.
    assert_eq!(
        v.audit().unwrap().last().unwrap().event["type"],
        "recipient_added"
    );
}
