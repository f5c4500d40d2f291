//! Evidence out, in the real app (issue #13): a coordinator opens the dashboards, clicks a bar
//! and gets the records it counts, saves a chart's counts (the file holds counts only, small
//! ones as "< 5"), sees the follow-up list, and sends what consent allows to a partner
//! organisation after a preview that names what is withheld and why; Go `age` opens the
//! partner's bundle with the partner's key, and nothing withheld is in it.

use std::path::PathBuf;

use e2e::{coordinator_sandbox, vault_dir, App, Steps};
use serde_json::json;
use testkit::fixture::PASS;
use vault::Kind;

/// The folder the app writes bundles and saved charts to in a sandbox.
fn written(home: &std::path::Path, prefix: &str) -> Vec<PathBuf> {
    [home.join("Documents/Kuager"), home.join("Kuager")]
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flatten()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
        })
        .collect()
}

/// Gulnar (named, consent for partners, six attempts without an answer) and Nurbek (consent for
/// this organisation only, an attempt waiting 400 days).
fn fill(dir: &std::path::Path) {
    let day =
        |ago: i64| (time::OffsetDateTime::now_utc().date() - time::Duration::days(ago)).to_string();
    {
        let mut v = vault::Vault::open(dir).unwrap();
        v.unlock(&testkit::fixture::pass()).unwrap();
        let mut add = |kind: Kind, j: serde_json::Value| {
            v.add(kind, j.to_string().as_bytes()).unwrap().record
        };
        let gulnar = add(
            Kind::Person,
            json!({"names": [{"value": "Gulnar Telibai"}], "contact": {"phones": ["+7 700 CANARY"]}}),
        );
        let hidden = add(Kind::Person, json!({"names": [{"value": "Nurbek Hidden"}]}));
        add(
            Kind::Testimony,
            json!({"witness": gulnar, "narrative": "She may be named to partners.",
            "consent": {"given": true, "scope": "partner-orgs"},
            "events": [{"type": "camp", "from": "2018", "place": "Ghulja"}]}),
        );
        add(
            Kind::Testimony,
            json!({"witness": hidden, "narrative": "INTERNAL-ONLY text",
            "consent": {"given": true, "scope": "internal"},
            "events": [{"type": "camp", "from": "2019", "place": "Ghulja"}]}),
        );
        for _ in 0..6 {
            add(
                Kind::Attempt,
                json!({"person": gulnar, "submitted_on": "2022-05", "channel": "consulate-almaty", "outcome": "no-response"}),
            );
        }
        add(
            Kind::Attempt,
            json!({"person": hidden, "submitted_on": day(400), "channel": "mail"}),
        );
    }
}

/// Adds a partner, previews, sends; Go `age` opens the bundle with the partner's key.
fn send_to_partner(s: &testkit::driver::Session, sb: &testkit::driver::Sandbox) {
    // A partner, by a key from Go age-keygen; the preview names what is withheld and why.
    let (secret, public) = testkit::goage::keygen();
    let key_file = sb.outside.join("partner.key");
    std::fs::write(&key_file, secret).unwrap();
    s.click(&s.find("[data-testid=nav-partners]", 5));
    s.find("[data-testid=partners-none]", 20);
    s.type_text(&s.find("[data-testid=partner-key]", 5), &public);
    s.type_text(&s.find("[data-testid=partner-label]", 5), "UN WGEID");
    s.type_text(&s.find("[data-testid=partner-pass]", 5), PASS);
    s.click(&s.find("[data-testid=partner-add]", 5));
    s.wait_for(
        "return document.querySelector('[data-testid=partners]')?.textContent.includes('UN WGEID')",
        20,
        "the partner listed",
    );
    s.click(&s.find("[data-testid=partner-preview]", 5));
    let withheld = s.text(&s.find("[data-testid=preview-withheld]", 20));
    assert!(
        withheld.contains("consent covers this organisation only"),
        "{withheld}"
    );
    let going = s.text(&s.find("[data-testid=preview-going]", 20));
    assert!(going.contains("Gulnar Telibai"), "{going}");
    s.click(&s.find("[data-testid=partner-write]", 5));
    s.find("[data-testid=partner-sent]", 30);
    let bundles = written(&sb.home, "kuager-");
    let bundle = bundles
        .iter()
        .find(|p| p.to_string_lossy().ends_with(".kuager.age"))
        .expect("the partner bundle");
    // Go `age` opens it with the partner's key; `tar` unpacks it.
    let opened = testkit::partners::open_with_go_age(bundle, &key_file, &sb.outside.join("opened"));
    let all = String::from_utf8_lossy(&testkit::partners::all_bytes(&opened)).into_owned();
    assert!(
        all.contains("She may be named to partners."),
        "what may go went"
    );
    for never in ["INTERNAL-ONLY", "Nurbek", "CANARY"] {
        assert!(!all.contains(never), "{never} reached the partner");
    }
}

#[test]
fn dashboards_saved_counts_and_a_partner_bundle() {
    let (sb, _) = coordinator_sandbox();
    fill(&vault_dir(&sb));
    let s = sb.launch();
    s.unlock(PASS);
    s.click(&s.find("[data-testid=nav-dashboards]", 60));
    s.find("[data-testid=charts-ready]", 20);
    // A bar opens the records it counts: 2022, no response → Gulnar's six attempts.
    s.exec(
        "[...document.querySelectorAll('[data-testid=chart-attempts-by-year] [data-testid=chart-bar]')].find((b) => b.textContent.trim() === '6').click(); return true;",
        json!([]),
    );
    let behind = s.text(&s.find("[data-testid=chart-records]", 20));
    assert!(
        behind.contains("6 records") && behind.contains("Gulnar Telibai"),
        "{behind}"
    );

    // Save the outcomes by channel as CSV: shown first, then written, small counts as "< 5".
    s.exec(
        "document.querySelector('[data-testid=chart-outcomes-by-channel] [data-testid=chart-save]').click(); return true;",
        json!([]),
    );
    let preview = s.text(&s.find("[data-testid=counts-preview]", 20));
    assert!(
        preview.contains("Consulate in Almaty") && preview.contains("< 5"),
        "{preview}"
    );
    s.click(&s.find("[data-testid=counts-save]", 5));
    s.find("[data-testid=counts-saved]", 20);
    let files = written(&sb.home, "kuager-counts-outcomes-by-channel");
    assert_eq!(files.len(), 1, "{files:?}");
    let csv = std::fs::read_to_string(&files[0]).unwrap();
    assert!(
        csv.contains("Consulate in Almaty,< 5,5,< 5,") && csv.contains("By mail,< 5,< 5,"),
        "{csv}"
    );
    assert!(!csv.contains("Gulnar") && !csv.contains("Nurbek"), "{csv}");

    // The follow-up list: Nurbek has waited 400 days.
    s.click(&s.find("[data-testid=dash-tab-follow-up]", 5));
    let list = s.text(&s.find("[data-testid=follow-up]", 20));
    assert!(
        list.contains("Nurbek Hidden") && list.contains("400"),
        "{list}"
    );

    send_to_partner(&s, &sb);
}
