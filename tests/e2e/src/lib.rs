//! A small WebDriver client and the harness that starts Xvfb, tauri-driver and the app in a
//! sandboxed $HOME, for the end-to-end tests in `tests/`.

use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The app binary `make test` builds before running these tests.
pub fn app_binary() -> PathBuf {
    let p = std::env::var_os("KUAGER_APP_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/debug/kuager-app"));
    assert!(
        p.exists(),
        "{} is missing: `make test` builds the UI and the app before the end-to-end tests",
        p.display()
    );
    p
}

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
        let n = 90 + (std::process::id() % 400);
        let display = format!(":{n}");
        let xvfb = Command::new("Xvfb")
            .args([
                display.as_str(),
                "-screen",
                "0",
                "1280x900x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb is installed by packaging/linux/deps.sh");
        std::thread::sleep(Duration::from_millis(700));
        let mut sb = Sandbox {
            dir,
            home,
            tmp,
            outside,
            display,
            _xvfb: Proc(xvfb),
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

    /// A WebDriver session on a fresh start of the app, run under `strace` watching every
    /// network call (R10); read it with [`Sandbox::network_calls`].
    pub fn launch(&self) -> Session {
        let wrapper = self.outside.join("kuager-app-under-strace");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\nexec strace -f -qq --seccomp-bpf -e trace=%network -o '{}' '{}' \"$@\"\n",
                self.strace_log().display(),
                app_binary().display()
            ),
        )
        .unwrap();
        std::os::unix::fs::PermissionsExt::set_mode(
            &mut std::fs::metadata(&wrapper).unwrap().permissions(),
            0o755,
        );
        std::fs::set_permissions(
            &wrapper,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        self.launch_binary(&wrapper)
    }

    fn strace_log(&self) -> PathBuf {
        self.outside.join("network.strace")
    }

    /// Network calls the app made to anything but this machine's loopback (R10), from strace.
    pub fn network_calls(&self) -> Vec<String> {
        let log = std::fs::read_to_string(self.strace_log()).expect("the strace log");
        assert!(
            !log.is_empty(),
            "strace recorded nothing: is the app running under it?"
        );
        foreign_network_calls(&log)
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

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(120))
        .build()
}

fn read(resp: Result<ureq::Response, ureq::Error>) -> Value {
    let resp = match resp {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("webdriver: {e}"),
    };
    let mut s = String::new();
    resp.into_reader().read_to_string(&mut s).unwrap();
    serde_json::from_str(&s).unwrap_or(Value::Null)
}

fn post(url: &str, body: &Value) -> Value {
    read(agent().post(url).send_json(body.clone()))
}

/// A WebDriver session (W3C protocol, just the commands the tests need).
pub struct Session {
    url: String,
}

/// An element reference.
#[derive(Clone)]
pub struct El(String);

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Session {
    fn cmd(&self, path: &str, body: Value) -> Value {
        post(&format!("{}/{path}", self.url), &body)
    }

    /// The first element matching a CSS selector, waiting up to `secs`.
    pub fn find(&self, css: &str, secs: u64) -> El {
        let t = Instant::now();
        loop {
            let r = self.cmd("element", json!({"using": "css selector", "value": css}));
            if let Some(id) = r["value"][ELEMENT].as_str() {
                return El(id.to_owned());
            }
            assert!(
                t.elapsed() < Duration::from_secs(secs),
                "no element {css} after {secs} s: {r}"
            );
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// Every element matching `css` now.
    pub fn find_all(&self, css: &str) -> Vec<El> {
        let r = self.cmd("elements", json!({"using": "css selector", "value": css}));
        r["value"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e[ELEMENT].as_str().map(|s| El(s.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Clicks.
    pub fn click(&self, e: &El) {
        let r = self.cmd(&format!("element/{}/click", e.0), json!({}));
        assert!(r["value"].is_null(), "click failed: {r}");
    }

    /// Types text into an input (for a file input: the file's path).
    pub fn type_text(&self, e: &El, text: &str) {
        let r = self.cmd(&format!("element/{}/value", e.0), json!({"text": text}));
        assert!(r["value"].is_null(), "typing failed: {r}");
    }

    /// Presses a key as the keyboard does (W3C actions; `\u{E004}` is Tab).
    pub fn press(&self, key: char) {
        let k = key.to_string();
        let r = self.cmd(
            "actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
                {"type": "keyDown", "value": k}, {"type": "keyUp", "value": k}
            ]}]}),
        );
        assert!(r["value"].is_null(), "key press failed: {r}");
    }

    /// Chooses an option the way a user does (Svelte listens for a bubbling `change`).
    pub fn set_select(&self, css: &str, value: &str) {
        self.exec(
            "const sel = document.querySelector(arguments[0]); sel.value = arguments[1]; sel.dispatchEvent(new Event('change', { bubbles: true }));",
            json!([css, value]),
        );
    }

    /// Unlocks the vault from the unlock screen.
    pub fn unlock(&self, passphrase: &str) {
        self.type_text(&self.find("[data-testid=passphrase]", 60), passphrase);
        self.click(&self.find("[data-testid=unlock-button]", 5));
    }

    /// On a new case: finds a person by `query`, adds them and the first testimony offered
    /// from them, saves, and waits until the saved case is shown again.
    pub fn case_with_person_and_testimony(&self, query: &str) {
        self.type_text(&self.find("[data-testid=case-person-search]", 10), query);
        self.click(&self.find("[data-testid=case-person-hit]", 20));
        self.click(&self.find("[data-testid=case-add-suggested]", 20));
        self.click(&self.find("[data-testid=save]", 5));
        self.wait_for(
            "const t = document.querySelector('[data-testid=case-testimonies]'); return !!document.querySelector('[data-testid=history]') && !!t && t.querySelectorAll('li').length === 1",
            20,
            "the saved case with its person and testimony",
        );
    }

    /// Clears an input.
    pub fn clear(&self, e: &El) {
        self.cmd(&format!("element/{}/clear", e.0), json!({}));
    }

    /// Visible text of an element.
    pub fn text(&self, e: &El) -> String {
        let r = read(
            agent()
                .get(&format!("{}/element/{}/text", self.url, e.0))
                .call(),
        );
        r["value"].as_str().unwrap_or_default().to_owned()
    }

    /// Runs a script in the page and returns its value.
    pub fn exec(&self, script: &str, args: Value) -> Value {
        self.cmd("execute/sync", json!({"script": script, "args": args}))["value"].clone()
    }

    /// Runs an async script (`arguments[arguments.length-1]` is the callback).
    pub fn exec_async(&self, script: &str) -> Value {
        self.cmd("execute/async", json!({"script": script, "args": []}))["value"].clone()
    }

    /// Waits until `script` returns true.
    pub fn wait_for(&self, script: &str, secs: u64, what: &str) {
        let t = Instant::now();
        while self.exec(script, json!([])) != Value::Bool(true) {
            if t.elapsed() >= Duration::from_secs(secs) {
                let shot = root().join("target/e2e-failure.png");
                if let Some(png) = self.try_screenshot() {
                    let _ = std::fs::write(&shot, png);
                }
                let alerts = self.exec(
                    "return Array.from(document.querySelectorAll('[role=alert],[role=status]')).map(e => e.textContent).join(' | ')",
                    json!([]),
                );
                panic!(
                    "timed out waiting for {what}; the page says: {alerts}; screenshot: {}",
                    shot.display()
                );
            }
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// A PNG of the window.
    pub fn screenshot(&self) -> Vec<u8> {
        let r = read(agent().get(&format!("{}/screenshot", self.url)).call());
        let b64 = r["value"].as_str().unwrap_or_default();
        base64_decode(b64)
    }

    /// A PNG of the window, or None if the driver does not answer within 10 s (WebKitWebDriver
    /// sometimes never answers a snapshot; a failing test must still report its own failure).
    pub fn try_screenshot(&self) -> Option<Vec<u8>> {
        let quick = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(10))
            .build();
        let r = quick.get(&format!("{}/screenshot", self.url)).call().ok()?;
        let v: Value = serde_json::from_reader(r.into_reader()).ok()?;
        Some(base64_decode(v["value"].as_str()?))
    }

    /// Ends the session (the app quits).
    pub fn quit(self) {
        let _ = agent().delete(&self.url).call();
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let Some(v) = T.iter().position(|&x| x == c) else {
            continue;
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// Files under `dir` holding `canary` in UTF-8 or UTF-16LE.
pub fn canary_hits(dir: &Path, canary: &str) -> Vec<String> {
    let utf16: Vec<u8> = canary.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if p.to_string_lossy().contains(canary) {
                hits.push(format!("name: {}", p.display()));
            }
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file() {
                if let Ok(b) = std::fs::read(&p) {
                    let has = |n: &[u8]| b.windows(n.len()).any(|w| w == n);
                    if has(canary.as_bytes()) || has(&utf16) {
                        hits.push(p.display().to_string());
                    }
                }
            }
        }
    }
    hits
}

/// The lines of an `strace -e trace=%network` log that reach beyond loopback.
pub fn foreign_network_calls(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains("AF_INET"))
        .filter(|l| {
            !(l.contains("inet_addr(\"127.0.0.1\")")
                || l.contains("inet_pton(AF_INET6, \"::1\"")
                || l.contains("\"::ffff:127.0.0.1\""))
        })
        .filter(|l| {
            ["connect(", "sendto(", "sendmsg(", "bind("]
                .iter()
                .any(|c| l.contains(c))
        })
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_connection_beyond_loopback_is_reported_and_loopback_is_not() {
        let log = r#"101 socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 3
101 connect(3, {sa_family=AF_UNIX, sun_path="/run/user/0/bus"}, 110) = 0
102 connect(7, {sa_family=AF_INET, sin_port=htons(41233), sin_addr=inet_addr("127.0.0.1")}, 16) = 0
103 connect(9, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("93.184.216.34")}, 16) = -1 ENETUNREACH
104 sendto(5, "\x12\x34", 30, MSG_NOSIGNAL, {sa_family=AF_INET6, sin6_port=htons(53), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2001:4860:4860::8888", &sin6_addr), sin6_scope_id=0}, 28) = 30"#;
        let found = super::foreign_network_calls(log);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found[0].contains("93.184.216.34") && found[1].contains("htons(53)"));
    }
}
