//! The real app under test: Xvfb, tauri-driver (WebKitWebDriver underneath) and a sandboxed
//! `$HOME`, `$TMPDIR` and XDG folders, so that a leak scan sees everything the app wrote.

mod session;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use session::{agent, post, read};
pub use session::{El, Session};

/// A child process killed (with its group) when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_port(port: u16, what: &str) {
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "{what} did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts Xvfb on a display it chooses itself (`-displayfd`: the first free number from 0,
/// written to its stdout once it accepts connections). Two sandboxes of one test binary run at
/// once (cargo runs a binary's tests in parallel): a number made from the process id gave both
/// the same display, the second Xvfb failed, and the first test to end took the other's X
/// server down with its own (the app died mid-test: "Network Error: Unexpected EOF").
fn xvfb() -> (Proc, String) {
    let mut xvfb = Proc(
        Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x900x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb is installed by packaging/linux/deps.sh"),
    );
    let mut line = String::new();
    let out = xvfb.0.stdout.as_mut().expect("piped");
    std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line).unwrap();
    let n: u32 = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("Xvfb did not start (it said {line:?})"));
    (xvfb, format!(":{n}"))
}

/// A sandbox: its own $HOME, XDG folders and $TMPDIR; Xvfb; tauri-driver.
pub struct Sandbox {
    /// Root of the sandbox.
    pub dir: tempfile::TempDir,
    /// $HOME.
    pub home: PathBuf,
    /// $TMPDIR.
    pub tmp: PathBuf,
    /// Files the test keeps outside the scanned folders (keys, files to attach, decrypted output).
    pub outside: PathBuf,
    /// The X display.
    pub display: String,
    _xvfb: Proc,
    driver: Option<Proc>,
    driver_port: u16,
}

impl Sandbox {
    /// Starts Xvfb and tauri-driver.
    pub fn start() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let tmp = dir.path().join("tmp");
        let outside = dir.path().join("outside");
        for d in [&home, &tmp, &outside, &home.join("Documents")] {
            std::fs::create_dir_all(d).unwrap();
        }
        let (xvfb, display) = xvfb();
        let mut sb = Sandbox {
            dir,
            home,
            tmp,
            outside,
            display,
            _xvfb: xvfb,
            driver: None,
            driver_port: free_port(),
        };
        let native = free_port();
        let mut cmd = Command::new(tauri_driver());
        let driver = sb
            .env(&mut cmd)
            .args([
                "--port",
                &sb.driver_port.to_string(),
                "--native-port",
                &native.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(if std::env::var_os("KUAGER_E2E_VERBOSE").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .expect("tauri-driver is installed by packaging/linux/deps.sh");
        sb.driver = Some(Proc(driver));
        wait_port(sb.driver_port, "tauri-driver");
        sb
    }

    /// `cmd` with the sandbox's environment (and nothing else from ours but PATH).
    pub fn env<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        let xdg = |p: &str| self.home.join(p);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("TMPDIR", &self.tmp)
            .env("DISPLAY", &self.display)
            .env("XDG_DATA_HOME", xdg(".local/share"))
            .env("XDG_CONFIG_HOME", xdg(".config"))
            .env("XDG_CACHE_HOME", xdg(".cache"))
            .env("XDG_STATE_HOME", xdg(".local/state"))
            .env("XDG_RUNTIME_DIR", self.dir.path().join("run"))
            .env("XDG_DOCUMENTS_DIR", xdg("Documents"))
            .env("LANG", "C.UTF-8")
            .env("NO_AT_BRIDGE", "1")
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
    }

    /// A WebDriver session on `binary` (the app, or a wrapper that execs it).
    pub fn launch_binary(&self, binary: &Path) -> Session {
        std::fs::create_dir_all(self.dir.path().join("run")).unwrap();
        let caps = json!({
            "capabilities": { "alwaysMatch": {
                "tauri:options": { "application": binary }
            }}
        });
        let base = format!("http://127.0.0.1:{}", self.driver_port);
        // The driver has once (in many runs) closed the connection of a new-session request
        // without an answer; the next request started the app. A second failure is reported.
        let r = match agent()
            .post(&format!("{base}/session"))
            .send_json(caps.clone())
        {
            Err(ureq::Error::Transport(t)) => {
                eprintln!("e2e: the driver dropped the new-session request ({t}); asking again");
                std::thread::sleep(Duration::from_secs(1));
                post(&format!("{base}/session"), &caps)
            }
            other => read(other),
        };
        let id = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"))
            .to_owned();
        Session {
            url: format!("{base}/session/{id}"),
        }
    }
}

/// tauri-driver: on PATH, or where `cargo install` put it.
pub fn tauri_driver() -> PathBuf {
    if let Some(home) = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
    {
        let p = home.join("bin/tauri-driver");
        if p.exists() {
            return p;
        }
    }
    PathBuf::from("tauri-driver")
}
