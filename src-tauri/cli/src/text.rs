//! Text that should not be typed on the command line (issue #10, item 12): a search for a
//! witness's name, why a record was purged, a caption, the vault's label. An argument lands in
//! the shell's history and, while the command runs, in `/proc/<pid>/cmdline`, which every user
//! of the machine can read. So each such argument may be `-` (read standard input), and the
//! search and the purge reason, when left out, are asked on the terminal.

use std::io::{BufRead, Read, Write};

/// The argument that means "read it from standard input".
pub const STDIN: &str = "-";

/// Most text read from standard input or the terminal (a search, a reason, a caption).
pub const MAX_BYTES: usize = 64 * 1024;

/// `given` as the user meant it: `-` reads standard input; absent, it is asked on the terminal
/// with `ask` (or stays absent when `ask` is None). `what` names it in errors.
pub fn resolve(
    given: Option<String>,
    what: &str,
    ask: Option<&str>,
) -> anyhow::Result<Option<String>> {
    match given.as_deref() {
        Some(STDIN) => {
            let mut buf = Vec::new();
            std::io::stdin()
                .lock()
                .take(MAX_BYTES as u64 + 1)
                .read_to_end(&mut buf)
                .map_err(|e| anyhow::anyhow!("cannot read the {what} from standard input: {e}"))?;
            finish(buf, what).map(Some)
        }
        Some(_) => Ok(given),
        None => match ask {
            Some(prompt) => ask_terminal(prompt, what).map(Some),
            None => Ok(None),
        },
    }
}

/// Text from bytes read: UTF-8, at most [`MAX_BYTES`], without the newline(s) that end it.
fn finish(buf: Vec<u8>, what: &str) -> anyhow::Result<String> {
    if buf.len() > MAX_BYTES {
        anyhow::bail!("the {what} is longer than {} KiB", MAX_BYTES / 1024);
    }
    let s = String::from_utf8(buf).map_err(|_| anyhow::anyhow!("the {what} is not UTF-8 text"))?;
    Ok(s.trim_end_matches(['\n', '\r']).to_owned())
}

/// Asks on the terminal (not standard input, which may be a pipe), showing what is typed.
fn ask_terminal(prompt: &str, what: &str) -> anyhow::Result<String> {
    let no_terminal = |e: std::io::Error| {
        anyhow::anyhow!(
            "no terminal to ask the {what} on ({e}): give `-` and send it on standard input"
        )
    };
    #[cfg(windows)]
    let (input, mut output) = (
        std::fs::File::open("CONIN$").map_err(no_terminal)?,
        std::fs::OpenOptions::new()
            .write(true)
            .open("CONOUT$")
            .map_err(no_terminal)?,
    );
    #[cfg(not(windows))]
    let (input, mut output) = {
        let tty = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .map_err(no_terminal)?;
        (tty.try_clone().map_err(no_terminal)?, tty)
    };
    write!(output, "{prompt}")
        .and_then(|()| output.flush())
        .map_err(no_terminal)?;
    let mut line = Vec::new();
    std::io::BufReader::new(input.take(MAX_BYTES as u64 + 1))
        .read_until(b'\n', &mut line)
        .map_err(no_terminal)?;
    finish(line, what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_read_loses_its_final_newline_and_nothing_else() {
        assert_eq!(finish(b"Senbay\n".to_vec(), "search").unwrap(), "Senbay");
        assert_eq!(
            finish(b"a\r\nb\r\n\n".to_vec(), "reason").unwrap(),
            "a\r\nb"
        );
        assert_eq!(finish(b" x ".to_vec(), "caption").unwrap(), " x ");
    }

    #[test]
    fn too_long_or_not_text_is_refused() {
        let e = finish(vec![b'a'; MAX_BYTES + 1], "reason").unwrap_err();
        assert_eq!(e.to_string(), "the reason is longer than 64 KiB");
        let e = finish(vec![0xff, 0xfe], "caption").unwrap_err();
        assert_eq!(e.to_string(), "the caption is not UTF-8 text");
    }

    #[test]
    fn text_given_as_an_argument_is_kept() {
        let r = resolve(Some("Senbay".into()), "search", Some("Search: ")).unwrap();
        assert_eq!(r.as_deref(), Some("Senbay"));
        assert_eq!(resolve(None, "caption", None).unwrap(), None);
    }
}
