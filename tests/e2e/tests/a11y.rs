//! Accessibility in the real app (issue #4): on every screen, axe-core (the same engine as the
//! browsers' accessibility audits) finds no serious or critical violation, and every control can
//! be reached with the Tab key alone.
//!
//! axe-core comes from the UI's npm dev dependencies (`ui/node_modules/axe-core`, installed by
//! `npm ci`); it is injected into the page by the WebDriver session, never shipped in the app.

use std::process::Command;

use e2e::{root, App, Sandbox, Session, Steps};
use serde_json::{json, Value};

const PASS: &str = "quiet meadow copper lantern ninety";
const TAB: char = '\u{E004}';

#[test]
fn every_screen_passes_axe_and_is_reachable_by_keyboard() {
    let axe = std::fs::read_to_string(root().join("ui/node_modules/axe-core/axe.min.js"))
        .expect("axe-core: run `npm ci` in ui/ (make test does)");
    let sb = Sandbox::start();
    let coordinator = age_public_key();
    let image = sb.outside.join("photo.png");
    std::fs::write(&image, PNG_1X1).unwrap();

    let s = sb.launch();
    let mut problems = Vec::new();
    let mut check = |s: &Session, screen: &str| problems.extend(audit(s, &axe, screen));

    s.find("[data-testid=pass1]", 60);
    check(&s, "first run");
    s.type_text(&s.find("[data-testid=pass1]", 5), PASS);
    s.type_text(&s.find("[data-testid=pass2]", 5), PASS);
    s.type_text(&s.find("[data-testid=recipients]", 5), &coordinator);
    s.wait_for(
        "return !document.querySelector('[data-testid=create]').disabled",
        10,
        "the passphrase to be accepted",
    );
    s.click(&s.find("[data-testid=create]", 5));

    s.find("[data-testid=new-person]", 60);
    check(&s, "home (empty)");
    s.click(&s.find("[data-testid=new-person]", 5));
    s.type_text(&s.find("[data-testid=name-value]", 10), "Сенбай Нұрахен");
    s.click(&s.find("[data-testid=save]", 5));
    s.find("[data-testid=person-new-testimony]", 20);
    s.type_text(
        &s.find("[data-testid=attach-input]", 5),
        image.to_str().unwrap(),
    );
    s.click(&s.find("[data-testid=use-as-photo]", 30));
    s.find("[data-testid=photo]", 20);
    // The contact block opened, so its fields are audited too.
    s.click(&s.find("[data-testid=contact] summary", 5));
    check(&s, "person");

    s.click(&s.find("[data-testid=person-new-testimony]", 5));
    s.type_text(&s.find("[data-testid=narrative]", 10), "Told in Almaty.");
    s.click(&s.find("[data-testid=add-event]", 5));
    s.click(&s.find("[data-testid=save]", 5));
    s.find("[data-testid=attach-input]", 20);
    check(&s, "testimony");

    s.click(&s.find("[data-testid=nav-people]", 5));
    s.find(".viewport button.row", 20);
    check(&s, "people list");
    s.click(&s.find(".viewport button.row", 5));
    // The page settles first (the photo shifts the layout when it arrives; a click computed
    // before that lands elsewhere).
    s.find("[data-testid=photo]", 20);
    s.wait_for(
        "return [...document.querySelectorAll('[data-testid=attachments] img')].every((i) => i.complete)",
        10,
        "the person's images to load",
    );
    s.click(&s.find("[data-testid=new-attempt]", 5));
    s.wait_for(
        "return document.querySelector('[data-testid=attempt-form]') !== null",
        10,
        "the new attempt form",
    );
    check(&s, "renunciation attempt");

    s.click(&s.find("[data-testid=nav-cases]", 5));
    s.click(&s.find("[data-testid=new-case]", 10));
    s.type_text(&s.find("[data-testid=case-person-search]", 10), "Senbay");
    s.click(&s.find("[data-testid=case-person-hit]", 20));
    s.find("[data-testid=case-add-suggested]", 20);
    check(&s, "case");
    s.click(&s.find("[data-testid=save]", 5));
    s.click(&s.find("[data-testid=history]", 20));
    s.find("[data-testid=history-list] tbody tr", 10);
    check(&s, "history");

    // The organisation: an identity makes this a coordinator's vault, with the screens that
    // receive bundles and list devices; a file that is no bundle shows a refused card.
    s.click(&s.find("[data-testid=nav-organisation]", 5));
    s.type_text(
        &s.find("[data-testid=org-identity-label]", 20),
        "coordinators",
    );
    s.click(&s.find("[data-testid=org-identity-new]", 5));
    s.find("[data-testid=org-identities]", 20);
    check(&s, "organisation");
    s.click(&s.find("[data-testid=nav-receive]", 20));
    s.type_text(
        &s.find("[data-testid=receive-files]", 10),
        image.to_str().unwrap(),
    );
    s.find("[data-testid=bundle-refused]", 30);
    check(&s, "receive bundles");
    s.click(&s.find("[data-testid=nav-devices]", 5));
    s.find("section.devices p.muted", 10);
    check(&s, "devices");
    s.click(&s.find("[data-testid=nav-conflicts]", 5));
    s.find("[data-testid=conflicts-none]", 10);
    check(&s, "conflicts");

    for (nav, screen) in [
        ("nav-home", "home"),
        ("nav-testimonies", "testimonies list"),
        ("nav-attempts", "attempts list"),
        ("nav-export", "export"),
        ("nav-audit", "audit log"),
        ("nav-settings", "settings"),
        ("nav-help", "help"),
    ] {
        s.click(&s.find(&format!("[data-testid={nav}]"), 5));
        s.wait_for(
            "return document.querySelector('main h1') !== null",
            10,
            screen,
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
        check(&s, screen);
    }

    s.click(&s.find("[data-testid=lock]", 5));
    s.find("[data-testid=passphrase]", 20);
    check(&s, "unlock");
    problems.extend(help_before_unlocking(&s, &axe));
    s.quit();
    problems.extend(conflict_and_merge(&sb, &axe));
    problems.extend(evidence(&sb, &axe));
    sb.assert_no_network_calls();
    assert!(
        problems.is_empty(),
        "accessibility problems:\n{}",
        problems.join("\n")
    );
}

/// A new coordinator's public key, from `age-keygen` as a coordinator would make it.
/// The guide opens before any vault is unlocked, in the UI's language (Kazakh here), its
/// screenshots loaded from the app itself; its links switch between its own pages.
fn help_before_unlocking(s: &Session, axe: &str) -> Vec<String> {
    s.click(&s.find("[data-testid=help-open]", 5));
    s.find("[data-testid=guide] h1", 10);
    s.click(&s.find("[data-testid=help-coordinator]", 5));
    s.wait_for(
        "const g = document.querySelector('[data-testid=guide]'); const imgs = [...g.querySelectorAll('img')]; \
         return g.querySelector('h1').textContent.includes('үйлестірушілерге') && imgs.length > 3 \
           && imgs.every((i) => i.complete && i.naturalWidth > 0)",
        20,
        "the coordinators' guide in Kazakh with its screenshots",
    );
    let problems = audit(s, axe, "help before unlocking");
    s.click(&s.find("[data-testid=help-close]", 5));
    s.find("[data-testid=passphrase]", 10);
    problems
}

fn age_public_key() -> String {
    let key = Command::new("age-keygen").output().unwrap();
    String::from_utf8_lossy(&key.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("Public key: "))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("age-keygen: {}", String::from_utf8_lossy(&key.stderr)))
}

/// What a coordinator's bundles bring, made here in the vault the first session left: two
/// versions of the testimony (a conflict) and the same witness entered again in Latin letters
/// (a suggestion). The resolve screen and a person's merge, asked and done.
fn conflict_and_merge(sb: &Sandbox, axe: &str) -> Vec<String> {
    let mut problems = Vec::new();
    {
        let mut v = vault::Vault::open(&e2e::vault_dir(sb)).unwrap();
        v.unlock(&vault::Passphrase::new(PASS.to_owned())).unwrap();
        let t = v.list(Some(vault::Kind::Testimony)).unwrap()[0].id;
        let head = v.get(t).unwrap().heads.pop().unwrap();
        for narrative in ["Told in Almaty, in March.", "Told in Almaty, by phone."] {
            let mut d = head.data.clone().unwrap();
            d["narrative"] = json!(narrative);
            v.edit(t, d.to_string().as_bytes(), Some(head.id.clone()), false)
                .unwrap();
        }
        let again = json!({"names": [{"value": "Senbay Nurakhen"}]});
        v.add(vault::Kind::Person, again.to_string().as_bytes())
            .unwrap();
    }
    let s = sb.launch();
    s.unlock(PASS);
    s.click(&s.find("[data-testid=nav-conflicts]", 30));
    s.click(&s.find("[data-testid=conflict-row]", 20));
    s.find("[data-testid=resolve-table]", 20);
    problems.extend(audit(&s, axe, "resolve a conflict"));
    s.click(&s.find("[data-testid=nav-people]", 5));
    s.wait_for(
        "const r = [...document.querySelectorAll('.viewport button.row')].find((b) => b.textContent.includes('Сенбай')); if (r) r.click(); return !!r;",
        20,
        "Сенбай Нұрахен in the people list",
    );
    s.click(&s.find("[data-testid=suggested-person] [data-testid=merge]", 20));
    s.find("[data-testid=merge-confirm]", 5);
    problems.extend(audit(&s, axe, "person: a suggested duplicate, merge asked"));
    s.click(&s.find("[data-testid=merge-confirm]", 5));
    s.find("[data-testid=unmerge]", 20);
    problems.extend(audit(&s, axe, "person: merged"));
    s.quit();
    problems
}

/// Dashboards (both, with a bar's records open and a chart's save panel), the follow-up list,
/// and a partner's preview, in the vault the first session left (an attempt waiting a year, a
/// testimony with consent for partners).
fn evidence(sb: &Sandbox, axe: &str) -> Vec<String> {
    let mut problems = Vec::new();
    {
        let mut v = vault::Vault::open(&e2e::vault_dir(sb)).unwrap();
        v.unlock(&vault::Passphrase::new(PASS.to_owned())).unwrap();
        // The conflict left above would stop a partner bundle (resolve first): resolved.
        for c in v.conflicts().unwrap() {
            let keep = c.heads.last().unwrap().id.clone();
            v.resolve(c.id, Some(keep), None).unwrap();
        }
        let p = v.list(Some(vault::Kind::Person)).unwrap()[0].id;
        for j in [
            json!({"person": p, "submitted_on": "2024-01", "channel": "mail"}),
            json!({"person": p, "submitted_on": "2023-03", "channel": "consulate-almaty", "outcome": "refused"}),
        ] {
            v.add(vault::Kind::Attempt, j.to_string().as_bytes())
                .unwrap();
        }
        let t = json!({"witness": p, "narrative": "Told for partners.", "consent": {"given": true, "scope": "partner-orgs"},
            "events": [{"type": "camp", "from": "2018", "place": "Ghulja", "facility": "Camp 3"}]});
        v.add(vault::Kind::Testimony, t.to_string().as_bytes())
            .unwrap();
        let ok = v
            .confirm_passphrase(&vault::Passphrase::new(PASS.to_owned()))
            .unwrap();
        v.add_partner(&age_public_key().parse().unwrap(), "UN WGEID", ok)
            .unwrap();
    }
    let s = sb.launch();
    s.unlock(PASS);
    s.click(&s.find("[data-testid=nav-dashboards]", 30));
    s.find("[data-testid=charts-ready]", 20);
    problems.extend(audit(&s, axe, "dashboards: attempts"));
    s.click(&s.find(
        "[data-testid=chart-attempts-by-year] [data-testid=chart-bar]:not([disabled])",
        5,
    ));
    s.find("[data-testid=chart-records]", 20);
    problems.extend(audit(&s, axe, "dashboards: a bar's records"));
    s.click(&s.find("[data-testid=chart-waiting] [data-testid=chart-save]", 5));
    s.find("[data-testid=counts-preview]", 20);
    problems.extend(audit(&s, axe, "dashboards: save counts"));
    s.click(&s.find("[data-testid=dash-tab-testimonies]", 5));
    s.find("[data-testid=charts-ready]", 20);
    problems.extend(audit(&s, axe, "dashboards: testimonies"));
    s.click(&s.find("[data-testid=dash-tab-follow-up]", 5));
    s.find("[data-testid=follow-up]", 20);
    problems.extend(audit(&s, axe, "follow-up list"));
    s.click(&s.find("[data-testid=nav-partners]", 5));
    s.click(&s.find("[data-testid=partner-preview]", 20));
    s.find("[data-testid=partner-preview-result]", 20);
    problems.extend(audit(&s, axe, "partner preview"));
    s.quit();
    problems
}

/// axe-core's serious and critical violations on the page as it is, and the controls Tab never
/// reaches.
fn audit(s: &Session, axe: &str, screen: &str) -> Vec<String> {
    if s.exec("return typeof window.axe", json!([])) != json!("object") {
        s.exec(&format!("{axe}\n;return true;"), json!([]));
    }
    let found = s.exec_async(
        "const done = arguments[arguments.length - 1];\
         axe.run(document, { resultTypes: ['violations'] }).then(\
           (r) => done(r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')\
             .map((v) => v.id + ' (' + v.impact + '): ' + v.help + ' — ' + v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join(', '))),\
           (e) => done(['axe failed: ' + e]));",
    );
    let mut out: Vec<String> = found
        .as_array()
        .unwrap_or_else(|| panic!("axe gave no answer on {screen}: {found}"))
        .iter()
        .map(|v| format!("{screen}: {}", v.as_str().unwrap_or_default()))
        .collect();
    out.extend(
        unreachable(s)
            .into_iter()
            .map(|c| format!("{screen}: not reachable with Tab: {c}")),
    );
    out
}

/// Tabs through the page from its start and returns the visible, enabled controls focus never
/// reached (a radio group counts as reached when one of its radios is; what a closed
/// `<details>` holds is not visible, its summary is).
fn unreachable(s: &Session) -> Vec<String> {
    let n = s.exec(
        "const hidden = (e) => { const d = e.closest('details:not([open])'); return !!d && !(e.tagName === 'SUMMARY' && e.parentElement === d); };\
         const els = [...document.querySelectorAll('a[href],button,input,select,textarea,summary,[tabindex]')]\
           .filter((e) => !e.disabled && e.getClientRects().length > 0 && e.tabIndex >= 0 && !e.closest('[inert]') && !hidden(e));\
         els.forEach((e, i) => { e.dataset.a11y = String(i); });\
         window.__a11yReached = new Set();\
         window.__a11yFocus = (ev) => { const t = ev.target; if (t && t.dataset && t.dataset.a11y) window.__a11yReached.add(t.dataset.a11y); };\
         document.addEventListener('focusin', window.__a11yFocus);\
         if (document.activeElement) document.activeElement.blur();\
         return els.length;",
        json!([]),
    );
    let n = n.as_u64().unwrap_or(0) as usize;
    for _ in 0..n + 3 {
        s.press(TAB);
    }
    let missing: Value = s.exec(
        "document.removeEventListener('focusin', window.__a11yFocus);\
         const els = [...document.querySelectorAll('[data-a11y]')];\
         const reached = window.__a11yReached;\
         const groupReached = (e) => e.type === 'radio' && e.name && els.some((o) => o.type === 'radio' && o.name === e.name && reached.has(o.dataset.a11y));\
         const out = els.filter((e) => !reached.has(e.dataset.a11y) && !groupReached(e))\
           .map((e) => e.outerHTML.slice(0, 120));\
         els.forEach((e) => delete e.dataset.a11y);\
         return out;",
        json!([]),
    );
    missing
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| v.as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A 1×1 PNG (a photo to attach).
const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];
