//! Consent withdrawn while another caseworker edits (docs/threat-model.md "Purge wins"): once a
//! record has a purge marker, every other revision of it — present or arriving later, in any
//! order — is kept without content and its attachments are dropped.

use std::io::Read;
use std::path::{Path, PathBuf};

use testkit::bundles::*;
use testkit::canary::files_under;
use testkit::fixture::*;
use vault::bundle::ExportScope;
use vault::{AttachMeta, Error, RecordId, Vault};

const TOLD: &str = "RACECANARY-told-7c1d";
const EDITED: &str = "RACECANARY-edited-52aa";
const AUDIO: &str = "RACECANARY-audio-e90b";

/// The three bundles of the story, and what the coordinator must no longer hold.
struct Story {
    a_created: PathBuf,
    a_purged: PathBuf,
    b_edited: PathBuf,
    testimony: RecordId,
    b_audio_sha: String,
    devices: Vec<(String, String)>,
}

/// A creates a testimony and sends it; B receives it, edits it and attaches a recording; A
/// purges it (consent withdrawn) and sends the purge; B sends the edit.
fn story(org: &mut Org) -> Story {
    let (ta, mut a) = caseworker(org, "A");
    let (tb, mut b) = caseworker(org, "B");
    b.import_identity_file(&org.tmp.path().join("org.key"), None)
        .unwrap();
    b.trust_device(&a.device_public_key().unwrap().minisign, "A")
        .unwrap();
    let p = add_person(&mut a, "Сенбай Нұрахен");
    let testimony = add_testimony(&mut a, p, &format!("{TOLD} in the camp"));
    let a_created = export(&mut a, ExportScope::SinceLast, &ta.path().join("a1"));
    b.import(&a_created, &Default::default()).unwrap();
    b.edit(
        testimony,
        format!(r#"{{"narrative":"{EDITED} the camp near Ghulja"}}"#).as_bytes(),
        None,
        false,
    )
    .unwrap();
    b.attach(testimony, AUDIO.as_bytes(), AttachMeta::default())
        .unwrap();
    let b_edited = export(&mut b, ExportScope::SinceLast, &tb.path().join("b1"));
    a.purge(testimony, "consent withdrawn").unwrap();
    let a_purged = export(&mut a, ExportScope::SinceLast, &ta.path().join("a2"));
    let devices = [("A", &a), ("B", &b)]
        .iter()
        .map(|(l, v)| ((*l).to_owned(), v.device_public_key().unwrap().minisign))
        .collect();
    // The bundles outlive the caseworkers' folders.
    let keep = org.tmp.path().to_owned();
    let moved = |p: &Path, n: &str| {
        let to = keep.join(n);
        std::fs::copy(p, &to).unwrap();
        to
    };
    Story {
        a_created: moved(&a_created, "a1.age"),
        a_purged: moved(&a_purged, "a2.age"),
        b_edited: moved(&b_edited, "b1.age"),
        testimony,
        b_audio_sha: testkit::bundles::sha(AUDIO.as_bytes()),
        devices,
    }
}

/// A second coordinator's vault holding the same organisation key, trusting A and B.
fn coordinator_like(org: &Org, s: &Story, name: &str) -> (PathBuf, Vault) {
    let dir = org.tmp.path().join(name);
    let mut v = new_vault(&dir);
    v.import_identity_file(&org.tmp.path().join("org.key"), None)
        .unwrap();
    for (label, key) in &s.devices {
        v.trust_device(key, label).unwrap();
    }
    (dir, v)
}

/// Where the texts of the story are found in a coordinator's vault: by search, in the
/// database's content, in its file (every page decrypted, free ones too, words lower-cased as
/// the full-text index keeps them).
fn found(dir: &Path, v: &Vault, c: &str) -> [bool; 3] {
    let pages = testkit::pages::decrypted_pages(dir);
    [
        !v.search(c, 10).unwrap().is_empty(),
        contains(&plaintext_dump(dir, &dir.with_extension("dump.db")), c),
        contains(&pages, c) || contains(&pages, &c.to_lowercase()),
    ]
}

fn assert_nothing_left(dir: &Path, v: &Vault, s: &Story, order: &str) {
    for c in [TOLD, EDITED] {
        assert_eq!(
            found(dir, v, c),
            [false; 3],
            "{order}: {c} is left (search, database, file)"
        );
    }
    for c in [TOLD, EDITED] {
        assert!(
            !serde_json::to_string(&v.history(s.testimony).unwrap())
                .unwrap()
                .contains(c),
            "{order}: the history shows {c}"
        );
    }
    let view = v.get(s.testimony).unwrap();
    let shown = serde_json::to_string(&view.heads).unwrap();
    for c in [TOLD, EDITED] {
        assert!(
            !shown.contains(c),
            "{order}: a current version shows {c}: {shown}"
        );
    }
    assert_eq!(
        v.summary(s.testimony).unwrap().facts,
        vault::Facts::Purged,
        "{order}"
    );
    assert!(
        matches!(v.open_attachment(&s.b_audio_sha), Err(Error::NotFound(_))),
        "{order}: B's recording can still be opened"
    );
    assert!(
        files_under(&dir.join("blobs")).is_empty(),
        "{order}: an attachment file is left"
    );
    assert!(v.verify().unwrap().problems.is_empty(), "{order}");
}

#[test]
fn a_purge_wins_over_a_concurrent_edit_whatever_order_the_bundles_arrive_in() {
    let mut org = coordinator();
    let s = story(&mut org);
    let orders: [(&str, [&PathBuf; 3]); 3] = [
        (
            "created, purged, edited",
            [&s.a_created, &s.a_purged, &s.b_edited],
        ),
        (
            "created, edited, purged",
            [&s.a_created, &s.b_edited, &s.a_purged],
        ),
        (
            "edited, purged, created",
            [&s.b_edited, &s.a_purged, &s.a_created],
        ),
    ];
    // Without the purge both versions are there, everywhere the checks below look (search
    // finds the current text only: B's edit replaced A's), and so is B's recording: they can
    // fail.
    let (dir, mut c) = coordinator_like(&org, &s, "control");
    for b in [&s.a_created, &s.b_edited] {
        c.import(b, &Default::default()).unwrap();
    }
    assert_eq!(found(&dir, &c, EDITED), [true; 3], "{EDITED}");
    assert_eq!(found(&dir, &c, TOLD), [false, true, true], "{TOLD}");
    let mut audio = Vec::new();
    c.open_attachment(&s.b_audio_sha)
        .unwrap()
        .read_to_end(&mut audio)
        .unwrap();
    assert_eq!(audio, AUDIO.as_bytes());
    assert!(!files_under(&dir.join("blobs")).is_empty());

    for (i, (order, bundles)) in orders.iter().enumerate() {
        let (dir, mut c) = coordinator_like(&org, &s, &format!("c{i}"));
        for b in bundles {
            c.import(b, &Default::default())
                .unwrap_or_else(|e| panic!("{order}: {e}"));
        }
        assert_nothing_left(&dir, &c, &s, order);
        // And it stays so: a record whose consent was withdrawn cannot be brought back by
        // resolving its two versions into new content.
        let json = format!(
            r#"{{"witness":"{}","narrative":"{EDITED}"}}"#,
            RecordId::new()
        );
        assert!(
            c.resolve(s.testimony, None, Some(json.as_bytes())).is_err(),
            "{order}: resolving brought content back"
        );
    }
}

/// A caseworker edits a record and purges it before the next bundle: the edit's content is gone
/// and never travels, and the purge continues it. The coordinator still takes the purge (and
/// the rest of the bundle) instead of refusing it for a version it can never get.
#[test]
fn a_purge_of_a_version_never_exported_still_reaches_the_coordinator() {
    let mut org = coordinator();
    let (t, mut cw) = caseworker(&mut org, "Almaty laptop");
    let p = add_person(&mut cw, "Сенбай Нұрахен");
    let first = export(&mut cw, ExportScope::SinceLast, &t.path().join("1"));
    org.v.import(&first, &Default::default()).unwrap();
    let mut d = cw.get(p).unwrap().heads.pop().unwrap().data.unwrap();
    d["notes"] = serde_json::json!(EDITED);
    cw.edit(p, d.to_string().as_bytes(), None, false).unwrap();
    cw.purge(p, "consent withdrawn").unwrap();
    let other = add_person(&mut cw, "Айгерім Қасым");
    let second = export(&mut cw, ExportScope::SinceLast, &t.path().join("2"));
    let r = org.v.import(&second, &Default::default()).unwrap();
    assert_eq!((r.purged_records, r.new_records), (1, 1), "{r:?}");
    let heads = org.v.get(p).unwrap().heads;
    assert_eq!(heads.len(), 1, "the purge is the one current version");
    assert!(heads[0]
        .data
        .as_ref()
        .and_then(|d| d.get("names"))
        .is_none());
    assert!(org.v.get(other).is_ok());
    assert!(org.v.verify().unwrap().problems.is_empty());
}
