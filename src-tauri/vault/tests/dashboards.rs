//! Dashboards, the follow-up list and counts saved for advocacy (issue #13,
//! docs/design-notes.md "Dashboards", "Counts for advocacy"): the counts are right, each bar
//! opens the records it counts, and a saved chart holds counts and the caller's words only —
//! a property test fills every text field of generated records with canaries and looks for
//! them in every file a chart can be saved as.

use proptest::prelude::*;
use testkit::fixture::*;
use vault::stats::counts::{Format, Labels};
use vault::stats::Chart;
use vault::{Kind, RecordId, Vault};

fn add(v: &mut Vault, kind: Kind, json: serde_json::Value) -> RecordId {
    v.add(kind, json.to_string().as_bytes()).unwrap().record
}

fn row<'c>(c: &'c vault::stats::Counts, key: &str) -> &'c [u64] {
    &c.rows
        .iter()
        .find(|r| r.key == key)
        .unwrap_or_else(|| panic!("no row {key} in {c:?}"))
        .counts
}

fn col(c: &vault::stats::Counts, key: &str) -> usize {
    c.columns.iter().position(|k| k == key).unwrap()
}

fn ago(days: i64) -> String {
    (time::OffsetDateTime::now_utc().date() - time::Duration::days(days)).to_string()
}

#[test]
fn charts_count_what_is_there_and_open_what_they_count() {
    let mut t = TempVault::new();
    let v = &mut t.vault;
    let a = add_person(v, "Aigerim");
    let b = add_person(v, "Baurzhan");
    let c = add_person(v, "Cholpan");
    // Aigerim: three attempts, the last still without an answer after 800 days.
    for (when, outcome) in [
        ("2021-03-01", Some("refused")),
        ("2022-01-10", Some("no-response")),
        (ago(800).as_str(), None),
    ] {
        let mut f = serde_json::json!({"submitted_on": when, "channel": "consulate-almaty"});
        if let Some(o) = outcome {
            f["outcome"] = o.into();
        }
        add_attempt(v, a, f);
    }
    // Baurzhan: one, accepted. Cholpan: one, pending for 400 days, by mail.
    add_attempt(
        v,
        b,
        serde_json::json!({"submitted_on": "2023-05", "channel": "embassy-astana", "outcome": "accepted", "outcome_on": "2024-01"}),
    );
    let pending = add_attempt(
        v,
        c,
        serde_json::json!({"submitted_on": ago(400), "channel": "mail", "outcome": "pending"}),
    );
    let t1 = add(
        v,
        Kind::Testimony,
        serde_json::json!({"witness": a, "narrative": "n", "events": [
        {"type": "camp", "from": "2018-02", "place": "Ghulja", "facility": "Camp No. 3"},
        {"type": "detention", "from": "2017", "place": "Урумчи"}]}),
    );
    add(
        v,
        Kind::Testimony,
        serde_json::json!({"witness": b, "narrative": "n", "events": [
        {"type": "camp", "from": "2018", "place": "Құлжа", "facility": "camp no. 3"}]}),
    );

    let by_year = v.chart(Chart::AttemptsByYear).unwrap();
    assert_eq!(row(&by_year, "2021")[col(&by_year, "refused")], 1);
    assert_eq!(row(&by_year, "2023")[col(&by_year, "accepted")], 1);
    let waiting = v.chart(Chart::Waiting).unwrap();
    assert_eq!(row(&waiting, "over-2-years"), [1]);
    assert_eq!(row(&waiting, "1-2-years"), [1]);
    assert_eq!(row(&waiting, "6-12-months"), [0]);
    let per = v.chart(Chart::AttemptsPerPerson).unwrap();
    assert_eq!((row(&per, "1"), row(&per, "3")), (&[2][..], &[1][..]));
    let channel = v.chart(Chart::OutcomesByChannel).unwrap();
    assert_eq!(row(&channel, "mail")[col(&channel, "pending")], 1);
    let events = v.chart(Chart::TestimoniesByEvent).unwrap();
    assert_eq!(
        (row(&events, "camp"), row(&events, "detention")),
        (&[2][..], &[1][..])
    );
    let regions = v.chart(Chart::TestimoniesByRegion).unwrap();
    assert_eq!(
        (row(&regions, "ili"), row(&regions, "urumqi")),
        (&[2][..], &[1][..])
    );
    let years = v.chart(Chart::TestimoniesByYear).unwrap();
    assert_eq!(
        (row(&years, "2017"), row(&years, "2018")),
        (&[1][..], &[2][..])
    );
    let facilities = v.chart(Chart::Facilities).unwrap();
    assert_eq!(
        facilities.rows.len(),
        1,
        "one facility however it is written: {facilities:?}"
    );
    assert_eq!(facilities.rows[0].counts, [2]);
    assert!(!facilities.exportable);
    let activity = v.chart(Chart::Activity).unwrap();
    assert_eq!(activity.rows[0].key, vault::THIS_DEVICE);
    assert!(activity.rows[0].counts.last().unwrap() >= &10);

    // One click: the records behind a bar.
    let ids = |s: Vec<vault::Summary>| s.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(
        ids(v.chart_records(Chart::Waiting, "1-2-years", None).unwrap()),
        [c]
    );
    assert_eq!(
        ids(v
            .chart_records(Chart::OutcomesByChannel, "mail", Some("pending"))
            .unwrap()),
        [pending]
    );
    assert_eq!(
        ids(v
            .chart_records(Chart::TestimoniesByRegion, "urumqi", None)
            .unwrap()),
        [t1]
    );
    assert_eq!(
        ids(v
            .chart_records(Chart::AttemptsPerPerson, "3", None)
            .unwrap()),
        [a]
    );
    assert_eq!(
        v.chart_records(Chart::Activity, vault::THIS_DEVICE, Some(&ago(0)[..7]))
            .unwrap()
            .len(),
        10
    );

    follow_up_and_purge(v, a, c, pending);
}

/// The follow-up list of the vault above.
fn follow_up_and_purge(v: &mut Vault, a: RecordId, c: RecordId, pending: RecordId) {
    // The follow-up list: longest waiting first, with the last request and where.
    let list = v.follow_up(180, 50).unwrap();
    assert_eq!(list.iter().map(|f| f.person).collect::<Vec<_>>(), [a, c]);
    assert_eq!(
        (list[0].name.as_deref(), list[0].attempts, list[0].days),
        (Some("Aigerim"), 3, 800)
    );
    assert_eq!(list[1].channel.as_deref(), Some("mail"));
    assert_eq!(v.follow_up(500, 50).unwrap().len(), 1);
    // An answer takes a person off the list; a purge takes their attempt out of every count.
    v.edit(
        pending,
        br#"{"outcome": "refused", "outcome_on": "2026"}"#,
        None,
        false,
    )
    .unwrap();
    assert_eq!(v.follow_up(180, 50).unwrap().len(), 1);
    v.purge(pending, "asked").unwrap();
    let channel = v.chart(Chart::OutcomesByChannel).unwrap();
    assert!(row(&channel, "mail").iter().all(|n| *n == 0), "{channel:?}");
}

#[test]
fn a_saved_chart_is_audited_and_says_less_than_5() {
    let mut t = TempVault::new();
    let (out, refused) = (t.outside("counts.png"), t.outside("facilities.csv"));
    let v = &mut t.vault;
    let p = add_person(v, "P");
    for _ in 0..6 {
        add_attempt(
            v,
            p,
            serde_json::json!({"submitted_on": "2024", "channel": "mail", "outcome": "refused"}),
        );
    }
    add_attempt(
        v,
        p,
        serde_json::json!({"submitted_on": "2024", "channel": "in-china", "outcome": "refused"}),
    );
    let labels = Labels {
        title: "Исходы по каналам".into(),
        row_heading: "Арна".into(),
        note: "5-тен аз сандар «< 5» деп көрсетілген".into(),
        ..Default::default()
    };
    let preview = v.counts_preview(Chart::OutcomesByChannel, &labels).unwrap();
    // Every channel and every outcome, zeros too; 6 rounded to 5, 1 and 0 as "< 5".
    let lines: Vec<&str> = preview.text.lines().collect();
    assert_eq!(lines.len(), 1 + 7, "{}", preview.text);
    assert!(
        lines[0].starts_with("Арна,pending,no-response,accepted,refused,"),
        "{}",
        lines[0]
    );
    assert_eq!(lines[4], "mail,< 5,< 5,< 5,5,< 5,< 5,< 5,< 5,< 5");
    assert_eq!(lines[6], "in-china,< 5,< 5,< 5,< 5,< 5,< 5,< 5,< 5,< 5");
    v.save_counts(Chart::OutcomesByChannel, &labels, Format::Png, &out)
        .unwrap();
    let png = std::fs::read(&out).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(!png
        .windows(4)
        .any(|w| w == b"tEXt" || w == b"iTXt" || w == b"zTXt"));
    let e = v.audit().unwrap().pop().unwrap().event;
    assert_eq!(
        (e["type"].as_str(), e["chart"].as_str()),
        (Some("counts_saved"), Some("outcomes-by-channel"))
    );
    // Charts of facilities and staff never become files; nothing is written.
    assert!(v
        .save_counts(Chart::Facilities, &labels, Format::Csv, &refused)
        .is_err());
    assert!(v
        .save_counts(Chart::Activity, &labels, Format::Csv, &refused)
        .is_err());
    assert!(!refused.exists());
}

const CANARY: &str = "CANARYzq";

/// Closed-set values the generator picks from.
const OUTCOMES: &[&str] = &["pending", "no-response", "accepted", "refused", "other"];
const CHANNELS: &[&str] = &["consulate-almaty", "embassy-astana", "mail", "in-china"];
const EVENTS: &[&str] = &["camp", "detention", "prison", "disappearance", "travel-ban"];
const PLACES: &[&str] = &["Ghulja", "Урумчи", "喀什", "Almaty"];

/// Records with a canary in every text field (and a distinctive date of birth).
fn generated(v: &mut Vault, picks: &[(u8, u8, u8, u16)]) -> Vec<RecordId> {
    let mut ids = Vec::new();
    for (i, &(o, c, e, y)) in picks.iter().enumerate() {
        let canary = |f: &str| format!("{CANARY}-{f}-{i}");
        let p = add(
            v,
            Kind::Person,
            serde_json::json!({
                "names": [{"value": canary("name"), "parts": {"surname": canary("surname")}}],
                "date_of_birth": "1937-11-23", "ethnicity": canary("ethnicity"),
                "place_of_birth": {"text": canary("birthplace"), "region": canary("region")},
                "documents": [{"type": "other", "number": canary("doc"), "issuing_authority": canary("authority")}],
                "contact": {"phones": [canary("phone")], "note": canary("contact")},
                "status": {"value": "camp", "source": canary("source")},
                "notes": canary("notes"),
            }),
        );
        let year = 2000 + y % 26;
        add(
            v,
            Kind::Testimony,
            serde_json::json!({
                "witness": p, "narrative": canary("narrative"), "summary": canary("summary"),
                "interviewer": canary("interviewer"), "place": canary("interview-place"), "tags": [canary("tag")],
                "events": [{"type": EVENTS[e as usize % EVENTS.len()], "from": format!("{year}"),
                    "place": format!("{} {}", PLACES[e as usize % PLACES.len()], canary("event-place")),
                    "facility": canary("facility"), "perpetrators": [canary("perpetrator")], "description": canary("description")}],
            }),
        );
        ids.push(add(v, Kind::Attempt, serde_json::json!({
            "person": p, "submitted_on": format!("{year}-0{}", 1 + o % 9),
            "channel": CHANNELS[c as usize % CHANNELS.len()], "outcome": OUTCOMES[o as usize % OUTCOMES.len()],
            "receipt_number": canary("receipt"), "official_seen": canary("official"), "notes": canary("attempt-notes"),
            "outcome_statement": canary("statement"), "pressure": canary("pressure"),
            "documents_submitted": [canary("submitted")], "consequences": [canary("consequence")],
        })));
        ids.push(p);
    }
    ids
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Whatever the records say, a saved chart holds none of it: no name, id, date of birth
    /// or free text, only keys of closed sets, years and counts (below 5 as "< 5").
    #[test]
    fn no_personal_field_reaches_a_saved_chart(picks in prop::collection::vec((0u8..9, 0u8..4, 0u8..5, 0u16..30), 1..40)) {
        let mut t = TempVault::new();
        let out_dir = t.outside("");
        let v = &mut t.vault;
        let ids = generated(v, &picks);
        for chart in Chart::ALL.into_iter().filter(|c| c.exportable()) {
            let labels = Labels { title: chart.key().into(), note: "note".into(), ..Default::default() };
            for format in [Format::Csv, Format::Svg] {
                let r = v.counts_preview(chart, &labels).unwrap();
                let bytes = match format {
                    Format::Csv => r.text.into_bytes(),
                    _ => {
                        let out = out_dir.join(format!("{}.svg", chart.key()));
                        v.save_counts(chart, &labels, format, &out).unwrap();
                        std::fs::read(&out).unwrap()
                    }
                };
                let text = String::from_utf8(bytes).unwrap();
                prop_assert!(!text.contains(CANARY), "{chart:?}: {text}");
                prop_assert!(!text.contains("1937"), "a date of birth in {chart:?}");
                for id in &ids {
                    prop_assert!(!text.contains(&id.to_string()), "an id in {chart:?}");
                }
                if format == Format::Csv {
                    for line in text.lines().skip(1) {
                        for cell in line.split(',').skip(1) {
                            let ok = cell == "< 5"
                                || cell.parse::<u64>().is_ok_and(|n| n >= 5 && n % 5 == 0);
                            prop_assert!(ok, "{chart:?}: the cell {cell:?}");
                        }
                    }
                }
            }
        }
    }
}
