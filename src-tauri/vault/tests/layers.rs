//! The vault crate's layers (src/lib.rs "Layers") hold: a module uses only the modules listed
//! before it, never one above. Read from the source, so that a new `use crate::…` that points
//! upward fails `make lint` (and `make test`) instead of growing a cycle.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Bottom first. A module may use itself and those before it.
const LAYERS: &[&str] = &[
    "error", "fsutil", "crypto", "profile", "model", "revision", "store", "index", "summary",
    "stats", "bundle", "vault",
];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|m| *m == module)
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a source file, from the crate root: `store/heads.rs` → [store, heads],
/// `store/mod.rs` → [store], `lib.rs` → [].
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The top-level modules a line of code names through `crate::` or `super::` paths.
fn named_modules(line: &str, here: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("crate::") {
        // `crate::` as a word: not the end of `vault_crate::` or similar.
        let word_start = i == 0
            || !rest.as_bytes()[i - 1].is_ascii_alphanumeric() && rest.as_bytes()[i - 1] != b'_';
        let after = &rest[i + "crate::".len()..];
        if word_start {
            found.extend(first_segments(after));
        }
        rest = after;
    }
    // `super::` from a module's own file: count how far up it goes.
    for (i, _) in line.match_indices("super::") {
        if i > 0 && line.as_bytes()[i - 1] == b':' {
            continue; // the second `super::` of a chain, counted with the first
        }
        let mut after = &line[i..];
        let mut up = 0;
        while let Some(r) = after.strip_prefix("super::") {
            up += 1;
            after = r;
        }
        if up >= here.len() {
            found.extend(first_segments(after));
        } else if up > 0 && here.len() - up >= 1 {
            found.push(here[0].clone());
        }
    }
    found
}

/// `store::heads` → [store]; `{error::Error, store}` → [error, store]; `Kind` → [Kind].
fn first_segments(path: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    if let Some(group) = path.strip_prefix('{') {
        let mut depth = 0;
        let mut items = Vec::new();
        let mut item = String::new();
        for c in group.chars() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(std::mem::take(&mut item));
                    continue;
                }
                _ => {}
            }
            item.push(c);
        }
        items.push(item);
        return items
            .iter()
            .map(|i| ident(i))
            .filter(|i| !i.is_empty())
            .collect();
    }
    // `super::*` in a test module names the module the test is in, which is allowed.
    Some(ident(path))
        .filter(|i| !i.is_empty())
        .into_iter()
        .collect()
}

/// A source file's code: comments blanked (line numbers kept), so that paths in comments and
/// doc links do not count.
fn code_of(text: &str) -> String {
    text.lines()
        .map(|line| {
            let t = line.trim_start();
            if t.starts_with("//") {
                String::new()
            } else {
                line.split(" //").next().unwrap_or("").to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `crate::`/`super::` reference in code as (file, line, module path, module named).
/// Read over the whole file, so a path split over lines (`use crate::{\n store,`) counts.
fn references() -> Vec<(String, usize, Vec<String>, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let here = module_path(&src, &f);
        let name = f.strip_prefix(&src).unwrap().display().to_string();
        let code = code_of(&std::fs::read_to_string(&f).unwrap());
        // Each statement (up to `;`, `{` or `}`) read whole, its first line reported.
        let mut line = 1;
        for stmt in code.split_inclusive([';']) {
            for m in named_modules(stmt, &here) {
                out.push((name.clone(), line, here.clone(), m));
            }
            line += stmt.matches('\n').count();
        }
    }
    out
}

/// Ways around the check above: naming the crate under another name.
#[test]
fn the_crate_is_never_named_another_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    for f in files {
        let code = code_of(&std::fs::read_to_string(&f).unwrap());
        for bad in ["extern crate self", "crate as ", "include!(", "#[path"] {
            assert!(
                !code.contains(bad),
                "{}: `{bad}` hides what a module uses",
                f.display()
            );
        }
    }
}

#[test]
fn no_module_uses_a_layer_above_it() {
    let mut wrong = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (file, line, here, named) in references() {
        *seen.entry(named.clone()).or_default() += 1;
        let Some(from) = here.first() else {
            continue; // the crate root is the table of contents: it may name every layer
        };
        let from_rank =
            rank(from).unwrap_or_else(|| panic!("{file}: module {from} is not in LAYERS"));
        match rank(&named) {
            Some(to) if to > from_rank => wrong.push(format!(
                "{file}:{line}: {from} uses {named}, a layer above it"
            )),
            Some(_) => {}
            // A shortcut through the crate root's re-exports (`crate::Kind`) would hide which
            // layer it comes from: name the module.
            None => wrong.push(format!(
                "{file}:{line}: `{named}` through the crate root: name its module (crate::model::…)"
            )),
        }
    }
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
    // The check reads what it should: every layer is named somewhere.
    for m in [
        "error", "crypto", "model", "revision", "store", "index", "summary",
    ] {
        assert!(
            seen.contains_key(m),
            "no reference to {m} found: is the reader broken? {seen:?}"
        );
    }
}

#[test]
fn the_reader_sees_grouped_and_relative_paths() {
    let here = vec!["store".to_owned(), "heads".to_owned()];
    assert_eq!(
        named_modules("use crate::{error::Error, index};", &here),
        ["error", "index"]
    );
    assert_eq!(named_modules("use super::revisions;", &here), ["store"]);
    assert_eq!(
        named_modules("let k = crate::Kind::Person;", &here),
        ["Kind"]
    );
    let top = vec!["summary".to_owned()];
    assert_eq!(named_modules("use super::vault::Vault;", &top), ["vault"]);
}
