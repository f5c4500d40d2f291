//! A vault written by an earlier Kuager (issue #15: an upgrade never costs a record): before
//! its schema is updated, the database as it was is kept, encrypted, in `backups/`; a failed
//! update changes nothing and says so; a purge and a key rotation remove the backups.

use std::path::{Path, PathBuf};

use testkit::fixture::{add_person, confirmed, new_vault, pass, raw_db, sqlcipher_key};
use vault::{Error, RecordId, Vault, SCHEMA_VERSION};

const NAME: &str = "Сенбай Нұрахен";

/// A vault as Kuager 0.1.0 left it: schema 12, without the tables for recordings that schema
/// 13 added. Made by today's code, then taken back (the upgrade test of `make test-upgrade`
/// uses a real 0.1.0 build).
fn older_vault() -> (tempfile::TempDir, PathBuf, RecordId) {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("v");
    let mut v = new_vault(&dir);
    let p = add_person(&mut v, NAME);
    drop(v);
    raw_db(&dir)
        .execute_batch(
            "DROP TABLE recording_markers; DROP TABLE recording_pieces; DROP TABLE recordings;
             UPDATE meta SET value = '12' WHERE key = 'schema_version';",
        )
        .unwrap();
    (t, dir, p)
}

fn schema_of(db: &Path, key: &str) -> String {
    let c = rusqlite::Connection::open(db).unwrap();
    c.execute_batch(&format!("PRAGMA key = \"x'{key}'\";"))
        .unwrap();
    c.query_row(
        "SELECT value FROM meta WHERE key = 'schema_version'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

fn has_table(dir: &Path, name: &str) -> bool {
    raw_db(dir)
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [name],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
        > 0
}

#[test]
fn an_update_first_keeps_the_database_as_it_was_encrypted_beside_it() {
    let (_t, dir, p) = older_vault();
    let mut v = Vault::open(&dir).unwrap();
    v.unlock(&pass()).unwrap();
    assert!(v.get(p).is_ok(), "the person is still there");
    drop(v);
    let key = sqlcipher_key(&dir);
    assert_eq!(
        schema_of(&dir.join("vault.db"), &key),
        SCHEMA_VERSION.to_string()
    );
    assert!(has_table(&dir, "recordings"), "the update ran");

    let backup = dir.join("backups/vault-schema-12.db");
    let bytes = std::fs::read(&backup).expect("a backup before the update");
    // Encrypted: not an SQLite file to anyone without the key, and no name in it.
    assert!(!bytes.starts_with(b"SQLite format 3"), "a plaintext backup");
    assert!(
        !bytes.windows(NAME.len()).any(|w| w == NAME.as_bytes()),
        "the name in plaintext"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&backup), 0o600);
        assert_eq!(mode(backup.parent().unwrap()), 0o700);
    }
    // With the vault's key it is the database as it was: schema 12, the person in it.
    assert_eq!(schema_of(&backup, &key), "12");
    let c = rusqlite::Connection::open(&backup).unwrap();
    c.execute_batch(&format!("PRAGMA key = \"x'{key}'\";"))
        .unwrap();
    let people: i64 = c
        .query_row(
            "SELECT count(*) FROM records WHERE kind = 'person'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(people, 1);

    // A vault already at this schema is opened without another copy.
    std::fs::remove_dir_all(dir.join("backups")).unwrap();
    let mut v = Vault::open(&dir).unwrap();
    v.unlock(&pass()).unwrap();
    assert!(!dir.join("backups").exists(), "a backup without an update");
}

#[test]
fn a_failed_update_changes_nothing_and_says_so() {
    let (_t, dir, p) = older_vault();
    // An update that cannot finish: its last step (the new schema number) is refused.
    raw_db(&dir)
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE UPDATE ON meta BEGIN SELECT RAISE(ABORT, 'refused'); END;",
        )
        .unwrap();
    let mut v = Vault::open(&dir).unwrap();
    let e = v.unlock(&pass()).unwrap_err();
    assert!(
        matches!(e, Error::Upgrade { from: 12, to, .. } if to == SCHEMA_VERSION),
        "{e:?}"
    );
    let said = e.to_string();
    for words in [
        "could not be updated",
        "Nothing in it was changed",
        "vault-schema-12.db",
    ] {
        assert!(said.contains(words), "{said}");
    }
    assert!(v.is_locked(), "a vault that failed to update is not open");
    drop(v);
    // As it was: schema 12, no table of schema 13, the person there.
    assert_eq!(schema_of(&dir.join("vault.db"), &sqlcipher_key(&dir)), "12");
    assert!(!has_table(&dir, "recordings"), "half an update was kept");
    // Once the obstacle is gone, the update goes through, and nothing was lost.
    raw_db(&dir).execute_batch("DROP TRIGGER refuse;").unwrap();
    let mut v = Vault::open(&dir).unwrap();
    v.unlock(&pass()).unwrap();
    assert!(v.get(p).is_ok());
    assert!(v.verify().unwrap().problems.is_empty());
}

#[test]
fn an_update_waits_until_no_other_program_has_the_vault_open() {
    let (_t, dir, p) = older_vault();
    // Another Kuager program (an older version left running) holds the vault open.
    let other = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.join("vault.lock"))
        .unwrap();
    other.try_lock_shared().unwrap();
    let mut v = Vault::open(&dir).unwrap();
    let said = v.unlock(&pass()).unwrap_err().to_string();
    assert!(said.contains("another Kuager program"), "{said}");
    assert!(v.is_locked());
    assert_eq!(schema_of(&dir.join("vault.db"), &sqlcipher_key(&dir)), "12");
    assert!(
        !dir.join("backups").exists(),
        "a copy taken while another program could write"
    );
    // Once it is closed, the update goes through.
    drop(other);
    v.unlock(&pass()).unwrap();
    assert!(v.get(p).is_ok());
    assert!(dir.join("backups/vault-schema-12.db").is_file());
    // And the vault is shared again: another program may open it.
    let again = std::fs::File::open(dir.join("vault.lock")).unwrap();
    again
        .try_lock_shared()
        .expect("the vault stayed held alone after its update");
}

#[test]
fn backups_a_purge_left_to_remove_go_before_an_update_keeps_its_own() {
    let (_t, dir, p) = older_vault();
    // A purge committed, and Kuager was stopped before it removed an earlier update's backup.
    std::fs::create_dir_all(dir.join("backups")).unwrap();
    std::fs::write(
        dir.join("backups/vault-schema-11.db"),
        b"may hold the purged",
    )
    .unwrap();
    raw_db(&dir)
        .execute("INSERT INTO doomed_files(file) VALUES ('backups/')", [])
        .unwrap();
    let mut v = Vault::open(&dir).unwrap();
    v.unlock(&pass()).unwrap();
    assert!(
        !dir.join("backups/vault-schema-11.db").exists(),
        "the doomed backup stayed"
    );
    assert!(
        dir.join("backups/vault-schema-12.db").is_file(),
        "the update's own backup went"
    );
    assert!(v.get(p).is_ok());
}

#[test]
fn a_purge_and_a_key_rotation_remove_the_backups() {
    let (_t, dir, p) = older_vault();
    let mut v = Vault::open(&dir).unwrap();
    v.unlock(&pass()).unwrap();
    assert!(dir.join("backups/vault-schema-12.db").exists());
    // The backup holds the person a purge destroys: it goes too.
    v.purge(p, "consent withdrawn").unwrap();
    assert!(
        !dir.join("backups").exists(),
        "a purged record kept in a backup"
    );
    drop(v);

    let (_t, dir, _) = older_vault();
    let mut v = Vault::open(&dir).unwrap();
    v.unlock(&pass()).unwrap();
    assert!(dir.join("backups/vault-schema-12.db").exists());
    // Encrypted under the keys a rotation replaces: it goes too.
    let ok = confirmed(&mut v);
    v.rotate_keys(ok, &pass(), Some(10)).unwrap();
    assert!(!dir.join("backups").exists(), "a backup under the old keys");
}

/// A `backups` link planted in the vault folder is refused, never followed: no copy is written
/// where it points, and nothing there is removed.
#[cfg(unix)]
#[test]
fn a_backups_link_is_never_followed() {
    let (t, dir, _) = older_vault();
    let elsewhere = t.path().join("documents");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("letter.txt"), "mine").unwrap();
    std::os::unix::fs::symlink(&elsewhere, dir.join("backups")).unwrap();
    let mut v = Vault::open(&dir).unwrap();
    assert!(v.unlock(&pass()).is_err(), "an update through a link");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 1);
    assert_eq!(
        std::fs::read_to_string(elsewhere.join("letter.txt")).unwrap(),
        "mine"
    );
}
