//! Commands that read from a terminal only (passphrase prompts, Go `age`, questions the
//! `kuager` command asks), run on a pseudo-terminal that `script` (bsdutils) gives them, with
//! lines typed into it one at a time.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// How long to wait before each typed line (the command must have shown its prompt).
const BEFORE_EACH_LINE: Duration = Duration::from_millis(450);

/// Runs `command_line` (a shell command) on a terminal, its environment set by `setup`, typing
/// `lines`; what it printed on the terminal is its standard output.
pub fn on_terminal(command_line: &str, setup: impl FnOnce(&mut Command), lines: &[&str]) -> Output {
    let mut c = Command::new("script");
    c.args(["-qec", command_line, "/dev/null"]);
    setup(&mut c);
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("`script` (bsdutils) is installed by packaging/linux/deps.sh");
    {
        let mut stdin = child.stdin.take().unwrap();
        for line in lines {
            std::thread::sleep(BEFORE_EACH_LINE);
            writeln!(stdin, "{line}").unwrap();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    child.wait_with_output().unwrap()
}
