//! `kuager record`, `inputs` and `recordings`: an interview recorded from a microphone straight
//! into the vault. The recorder (kuager-audio) hands over a piece every two seconds; each is
//! stored (`Vault::recording_append`) before the next is taken, so a crash or a kill loses at
//! most the last few seconds, and `kuager recordings save` keeps the rest. Lines typed on
//! standard input set markers; its end (Ctrl-D) stops.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use kuager_audio::{Piece, Recorder, Source};
use vault::{Marker, RecordId, Vault};

use super::{unlock, Out};
use crate::args::RecordingsAction;

/// `m:ss` or `h:mm:ss`.
fn clock(ms: u64) -> String {
    let s = ms / 1000;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

fn store(v: &mut Vault, id: &str, p: &Piece) -> anyhow::Result<()> {
    let markers: Vec<Marker> = p
        .markers
        .iter()
        .map(|(at_ms, note)| Marker {
            at_ms: *at_ms,
            note: note.clone(),
        })
        .collect();
    v.recording_append(id, &p.bytes, p.end_ms, &markers)?;
    Ok(())
}

pub fn record(
    out: Out,
    dir: &Path,
    id: RecordId,
    input: Option<&str>,
    seconds: Option<u64>,
) -> anyhow::Result<u8> {
    let mut v = unlock(dir)?;
    let (tx, rx) = mpsc::channel();
    let rec = Recorder::start(Source::Input(input.map(str::to_owned)), tx)?;
    let rid = v.recording_begin(id, Some(rec.input()))?;
    let tty = std::io::stderr().is_terminal();
    eprintln!(
        "recording from {} — Enter sets a marker (type a note first to give it one), Ctrl-D stops",
        rec.input()
    );
    // Standard input: each line a marker; its end stops the recording.
    let (lines_tx, lines) = mpsc::channel::<Option<String>>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(Some(line)).is_err() {
                return;
            }
        }
        let _ = lines_tx.send(None);
    });
    let start = Instant::now();
    let mut last_shown = Instant::now();
    let mut rec = Some(rec);
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(p) => {
                store(&mut v, &rid, &p)?;
                if p.last {
                    break;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        let Some(r) = rec.as_ref() else { continue };
        while let Ok(line) = lines.try_recv() {
            match line {
                Some(l) => {
                    let note = l.trim();
                    let ms = r.status().elapsed_ms;
                    r.mark((!note.is_empty()).then(|| note.chars().take(200).collect()));
                    eprintln!("marker at {}", clock(ms));
                }
                None => {
                    if std::io::stdin().is_terminal() || seconds.is_none() {
                        rec.take().map(Recorder::stop).transpose()?;
                    }
                    break;
                }
            }
        }
        if let Some(r) = rec.as_ref() {
            if seconds.is_some_and(|s| start.elapsed() >= Duration::from_secs(s)) {
                rec.take().map(Recorder::stop).transpose()?;
            } else if let Some(e) = r.failed() {
                eprintln!("{e}");
                rec.take();
            } else if tty && last_shown.elapsed() >= Duration::from_secs(1) {
                let st = r.status();
                let bars = (st.level * 20.0).round() as usize;
                eprint!(
                    "\r{}  {:<20}",
                    clock(st.elapsed_ms),
                    "|".repeat(bars.min(20))
                );
                let _ = std::io::stderr().flush();
                last_shown = Instant::now();
            }
        }
    }
    // Every piece the recorder sent is stored.
    for p in rx.try_iter() {
        store(&mut v, &rid, &p)?;
    }
    if tty {
        eprintln!();
    }
    let saved = v.recording_finish(&rid)?;
    let view = v.get(id)?;
    let att = view
        .heads
        .last()
        .and_then(|r| r.data.as_ref())
        .and_then(|d| d.get("attachments"))
        .and_then(|a| a.as_array())
        .and_then(|a| a.last())
        .cloned()
        .unwrap_or_default();
    let ms = att
        .pointer("/custody/duration_ms")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    eprintln!(
        "saved {} of recording; fingerprint (SHA-256) {}",
        clock(ms),
        att.get("blob").and_then(|b| b.as_str()).unwrap_or("")
    );
    writeln!(out, "{}", saved.revision)?;
    Ok(0)
}

pub fn inputs(out: Out) -> anyhow::Result<u8> {
    let list = kuager_audio::inputs()?;
    for i in &list {
        writeln!(
            out,
            "{}{}\t{}",
            i.id,
            if i.default { " (default)" } else { "" },
            i.name
        )?;
    }
    if list.is_empty() {
        eprintln!("no microphone found");
    }
    Ok(0)
}

fn find(v: &Vault, prefix: &str) -> anyhow::Result<String> {
    let p = prefix.trim();
    let all: Vec<_> = v
        .recordings()?
        .into_iter()
        .filter(|r| p.len() >= 8 && r.id.starts_with(p))
        .collect();
    match all.as_slice() {
        [one] => Ok(one.id.clone()),
        [] => anyhow::bail!(
            "no interrupted recording starts with {p:?}: `kuager recordings` lists them (give at least 8 characters)"
        ),
        _ => anyhow::bail!("more than one recording starts with {p:?}: give more of its id"),
    }
}

pub fn recordings(out: Out, dir: &Path, action: Option<RecordingsAction>) -> anyhow::Result<u8> {
    let mut v = unlock(dir)?;
    match action.unwrap_or(RecordingsAction::List) {
        RecordingsAction::List => {
            let list = v.recordings()?;
            for r in &list {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{} markers\tstarted {}",
                    r.id,
                    r.record,
                    clock(r.duration_ms),
                    r.markers,
                    r.started_at
                )?;
            }
            if list.is_empty() {
                eprintln!("(no interrupted recordings)");
            }
        }
        RecordingsAction::Save { id } => {
            let id = find(&v, &id)?;
            let saved = v.recording_finish(&id)?;
            writeln!(out, "{}", saved.revision)?;
        }
        RecordingsAction::Discard { id } => {
            let id = find(&v, &id)?;
            v.recording_discard(&id)?;
            eprintln!("discarded");
        }
    }
    Ok(0)
}
