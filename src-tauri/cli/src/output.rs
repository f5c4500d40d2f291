//! Output for people: aligned columns (by display width, so Cyrillic, Chinese and Arabic-script
//! names line up), readable dates, short ids.

use std::io::{self, Write};
use std::path::Path;

use unicode_width::UnicodeWidthStr;
use vault::model::stored_name as word;
use vault::{AuditEvent, Facts, HistoryEntry, Hit, Kind, RecordView, Summary, Vault};

/// `2026-11-28T09:01:02.345Z` → `2026-11-28 09:01 UTC`.
pub fn when(rfc3339: &str) -> String {
    if rfc3339.len() >= 16 && rfc3339.as_bytes().get(10) == Some(&b'T') {
        format!("{} {} UTC", &rfc3339[..10], &rfc3339[11..16])
    } else {
        rfc3339.to_owned()
    }
}

fn pad(s: &str, width: usize) -> String {
    let w = UnicodeWidthStr::width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

fn clip(s: &str, max: usize) -> String {
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if UnicodeWidthStr::width(one_line.as_str()) <= max {
        return one_line;
    }
    let mut out = String::new();
    for c in one_line.chars() {
        if UnicodeWidthStr::width(out.as_str()) + 2 > max {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

fn table(out: &mut (impl Write + ?Sized), rows: &[Vec<String>]) -> io::Result<()> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| UnicodeWidthStr::width(s.as_str()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in rows {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            if i + 1 == r.len() {
                line.push_str(cell);
            } else {
                line.push_str(&pad(cell, widths[i]));
                line.push_str("  ");
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// A list row's title: a name, a case reference.
pub fn title(s: &Summary) -> String {
    let named = |n: &Option<String>| n.clone().unwrap_or_else(|| "(unknown person)".into());
    match &s.facts {
        Facts::Purged => "(purged)".into(),
        Facts::Person { names, .. } => names.first().cloned().unwrap_or_else(|| "(purged)".into()),
        Facts::Testimony { witness, .. } => named(witness),
        Facts::Attempt { person, .. } => named(person),
        Facts::Case { reference, .. } if reference.is_empty() => "(purged)".into(),
        Facts::Case { reference, .. } => reference.clone(),
    }
}

/// A list row's details, in English: dates, status, counts; an attempt's number and how long
/// it has waited.
pub fn detail(s: &Summary) -> String {
    let date =
        |d: &Option<vault::PartialDate>| d.as_ref().map(ToString::to_string).unwrap_or_default();
    match &s.facts {
        Facts::Purged => "content destroyed".into(),
        Facts::Person { names, born } => {
            let mut parts: Vec<String> = names.iter().skip(1).cloned().collect();
            if let Some(b) = born {
                parts.push(format!("b. {b}"));
            }
            parts.join(" · ")
        }
        Facts::Testimony {
            recorded,
            status,
            attachments,
            ..
        } => {
            let mut detail = date(recorded);
            if let Some(st) = status {
                detail = format!("{detail} {}", word(st)).trim().to_owned();
            }
            let n = *attachments;
            if n > 0 {
                detail = format!("{detail} · {n} attachment{}", if n == 1 { "" } else { "s" });
            }
            detail
        }
        Facts::Attempt {
            number,
            submitted,
            outcome,
            outcome_on,
            waiting_days,
            ..
        } => {
            let mut detail = format!("#{number} submitted {}", date(submitted));
            match outcome {
                Some(o) if !o.is_waiting() => {
                    detail.push_str(format!(" · {} {}", word(o), date(outcome_on)).trim_end());
                }
                _ => {
                    if let Some(days) = waiting_days {
                        detail.push_str(&format!(" · waiting {days} days"));
                    }
                    if let Some(o) = outcome {
                        detail.push_str(&format!(" ({})", word(o)));
                    }
                }
            }
            detail
        }
        Facts::Case { title, status, .. } => [title.clone(), status.as_ref().map(word)]
            .into_iter()
            .flatten()
            .filter(|x| !x.is_empty())
            .collect::<Vec<_>>()
            .join(" · "),
    }
}

/// A list of records.
pub fn summaries(
    out: &mut (impl Write + ?Sized),
    list: &[Summary],
    show_kind: bool,
) -> io::Result<()> {
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|s| {
            let mut r = vec![s.id.to_string()];
            if show_kind {
                r.push(s.kind.to_string());
            }
            let mut title = clip(&title(s), 40);
            if s.conflict {
                title.push_str(" [conflict]");
            }
            r.push(title);
            r.push(when(&s.updated_at));
            r.push(clip(&detail(s), 60));
            r
        })
        .collect();
    table(out, &rows)
}

/// Search results.
pub fn hits(out: &mut (impl Write + ?Sized), hits: &[Hit]) -> io::Result<()> {
    let rows: Vec<Vec<String>> = hits
        .iter()
        .map(|h| {
            let m = word(&h.matched);
            vec![
                h.summary.id.to_string(),
                h.summary.kind.to_string(),
                clip(&title(&h.summary), 40),
                format!("({m})"),
                clip(&detail(&h.summary), 50),
            ]
        })
        .collect();
    table(out, &rows)
}

/// A record's history.
pub fn history(out: &mut (impl Write + ?Sized), h: &[HistoryEntry]) -> io::Result<()> {
    let rows: Vec<Vec<String>> = h
        .iter()
        .map(|e| {
            let parents = if e.parents.is_empty() {
                "(first)".to_owned()
            } else {
                e.parents
                    .iter()
                    .map(|p| p.short().to_owned())
                    .collect::<Vec<_>>()
                    .join("+")
            };
            let mut flags = Vec::new();
            if e.head {
                flags.push("current");
            }
            if e.purged {
                flags.push("purged");
            }
            vec![
                e.id.short().to_owned(),
                when(&e.at),
                format!("device {}", &e.device[..8.min(e.device.len())]),
                format!("after {parents}"),
                flags.join(", "),
            ]
        })
        .collect();
    table(out, &rows)
}

/// The audit log.
pub fn audit(out: &mut (impl Write + ?Sized), events: &[AuditEvent]) -> io::Result<()> {
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            let ev = &e.event;
            let s = |k: &str| ev.get(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
            let mut detail = Vec::new();
            for k in ["kind", "record"] {
                let v = s(k);
                if !v.is_empty() {
                    detail.push(v);
                }
            }
            if let Some(r) = ev.get("revision").and_then(|v| v.as_str()) {
                detail.push(format!("rev {}", &r[..12.min(r.len())]));
            }
            // Why a record was purged (kept only in the vault that purged it).
            let reason = s("reason");
            if !reason.is_empty() {
                detail.push(format!("reason: {}", reason.escape_debug()));
            }
            vec![
                format!("{:>5}", e.seq),
                when(&s("at")),
                s("type").replace('_', " "),
                detail.join(" "),
            ]
        })
        .collect();
    table(out, &rows)
}

fn field_label(k: &str) -> String {
    k.replace('_', " ")
}

fn write_value(
    out: &mut (impl Write + ?Sized),
    indent: usize,
    key: &str,
    v: &serde_json::Value,
) -> io::Result<()> {
    let pad = "  ".repeat(indent);
    match v {
        serde_json::Value::Object(o) => {
            writeln!(out, "{pad}{}:", field_label(key))?;
            for (k, x) in o {
                write_value(out, indent + 1, k, x)?;
            }
        }
        serde_json::Value::Array(a) => {
            if a.iter().all(|x| !x.is_object() && !x.is_array()) {
                let items: Vec<String> = a.iter().map(scalar).collect();
                writeln!(out, "{pad}{}: {}", field_label(key), items.join(", "))?;
            } else {
                writeln!(out, "{pad}{}:", field_label(key))?;
                for (i, x) in a.iter().enumerate() {
                    write_value(out, indent + 1, &format!("{}", i + 1), x)?;
                }
            }
        }
        other => {
            let text = scalar(other);
            if text.contains('\n') || UnicodeWidthStr::width(text.as_str()) > 80 {
                writeln!(out, "{pad}{}:", field_label(key))?;
                for line in text.lines() {
                    writeln!(out, "{pad}  {line}")?;
                }
            } else {
                writeln!(out, "{pad}{}: {text}", field_label(key))?;
            }
        }
    }
    Ok(())
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Bool(b) => if *b { "yes" } else { "no" }.to_owned(),
        other => other.to_string(),
    }
}

/// One record, for reading.
pub fn show(out: &mut (impl Write + ?Sized), v: &Vault, view: &RecordView) -> anyhow::Result<()> {
    writeln!(out, "{} {}", view.kind, view.id)?;
    if view.heads.len() > 1 {
        writeln!(
            out,
            "CONFLICT: {} versions were saved from the same earlier one; each is shown below.",
            view.heads.len()
        )?;
    }
    for head in &view.heads {
        writeln!(
            out,
            "revision {}  saved {}",
            head.id.short(),
            when(&head.at)
        )?;
        let Some(data) = head
            .data
            .as_ref()
            .filter(|d| !vault::revision::is_purge_marker(d))
        else {
            writeln!(
                out,
                "  (purged: the content of this record no longer exists)"
            )?;
            continue;
        };
        if view.kind == Kind::Attempt {
            // Derived, never stored: attempt number and days waiting.
            writeln!(out, "  {}", detail(&v.summary(view.id)?))?;
        }
        if let Some(o) = data.as_object() {
            for (k, x) in o {
                write_value(out, 1, k, x)?;
            }
        }
    }
    Ok(())
}

/// A media type from a file extension, for the common kinds of attachment.
pub fn guess_media_type(p: &Path) -> Option<&'static str> {
    let ext = p.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "heic" => "image/heic",
        "gif" => "image/gif",
        "pdf" => "application/pdf",
        "mp3" => "audio/mpeg",
        "m4a" => "audio/mp4",
        "ogg" | "oga" | "opus" => "audio/ogg",
        "wav" => "audio/wav",
        "mp4" => "video/mp4",
        "mov" => "video/quicktime",
        "m4v" => "video/x-m4v",
        "webm" => "video/webm",
        "mkv" => "video/x-matroska",
        "txt" => "text/plain",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ => return None,
    })
}

/// A conflicting record: its versions, and each top-level field that differs, side by side.
pub fn conflict(
    out: &mut (impl Write + ?Sized),
    v: &Vault,
    view: &RecordView,
) -> anyhow::Result<()> {
    let s = v.summary(view.id)?;
    writeln!(
        out,
        "{} {}  {}  ({} versions)",
        view.kind,
        view.id,
        title(&s),
        view.heads.len()
    )?;
    let empty = serde_json::Map::new();
    let datas: Vec<&serde_json::Map<String, serde_json::Value>> = view
        .heads
        .iter()
        .map(|h| {
            h.data
                .as_ref()
                .and_then(|d| d.as_object())
                .unwrap_or(&empty)
        })
        .collect();
    let mut keys: Vec<&String> = datas.iter().flat_map(|d| d.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut rows = vec![{
        let mut r = vec!["field".to_owned()];
        r.extend(
            view.heads
                .iter()
                .map(|h| format!("{} ({})", h.id.short(), when(&h.at))),
        );
        r
    }];
    for k in keys {
        let vals: Vec<String> = datas
            .iter()
            .map(|d| {
                d.get(k)
                    .map(|x| clip(&scalar(x), 40))
                    .unwrap_or_else(|| "—".into())
            })
            .collect();
        if vals.windows(2).any(|w| w[0] != w[1]) {
            let mut r = vec![field_label(k)];
            r.extend(vals);
            rows.push(r);
        }
    }
    table(out, &rows)?;
    writeln!(
        out,
        "  resolve: kuager resolve {} --keep <revision>  (or give the merged record as JSON)",
        view.id
    )?;
    Ok(())
}
