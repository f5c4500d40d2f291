//! The vault locks when the laptop goes to sleep and when the desktop session locks (issue #10,
//! item 4; docs/threat-model.md). The app talks to systemd-logind on the system bus; here the
//! "system bus" is a private `dbus-daemon` and logind a small stand-in (`fake_logind.py`) that
//! emits what logind emits: `PrepareForSleep(true)`, the session's `Lock`, and its `LockedHint`
//! turning true. Each must bring the unlock screen; before sleeping the app must hold a delay
//! inhibitor (so logind waits for the lock) and release it once locked.

use std::io::{BufRead, BufReader, Write};
use std::process::{ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use e2e::{launcher, root, Sandbox, Session, Steps};
use testkit::driver::Proc;
use testkit::fixture::{add_person, new_vault, PASS};

/// The passphrase chosen in Settings when the keys are replaced.
const NEW_PASS: &str = "harbour lantern quiet seventeen";

/// The stand-in logind: commands in, events out.
struct Logind {
    _proc: Proc,
    input: ChildStdin,
    events: mpsc::Receiver<String>,
}

impl Logind {
    fn start(bus: &str) -> Logind {
        let mut child = Command::new("/usr/bin/python3")
            .arg(root().join("tests/e2e/fake_logind.py"))
            .env("KUAGER_TEST_BUS", bus)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("Debian's python3 with python3-gi (packaging/linux/deps.sh)");
        let input = child.stdin.take().unwrap();
        let out: ChildStdout = child.stdout.take().unwrap();
        let (tx, events) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let l = Logind {
            _proc: Proc(child),
            input,
            events,
        };
        l.expect("ready");
        l
    }

    /// Waits for the event `what` (other events before it are dropped).
    fn expect(&self, what: &str) {
        let t = Instant::now();
        loop {
            let left = Duration::from_secs(20).saturating_sub(t.elapsed());
            match self.events.recv_timeout(left) {
                Ok(e) if e == what => return,
                Ok(_) => {}
                Err(_) => panic!("the stand-in logind never saw `{what}`"),
            }
        }
    }

    fn send(&mut self, what: &str) {
        writeln!(self.input, "{what}").unwrap();
        self.expect(&format!("sent {what}"));
    }
}

/// A private message bus standing in for the system bus; its address.
fn private_bus(sb: &Sandbox) -> (Proc, String) {
    let socket = sb.outside.join("system_bus_socket");
    let address = format!("unix:path={}", socket.display());
    let daemon = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--nopidfile"])
        .arg(format!("--address={address}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-daemon (packaging/linux/deps.sh)");
    let t = Instant::now();
    while !socket.exists() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "dbus-daemon did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (Proc(daemon), address)
}

fn unlock_and_wait(s: &Session) {
    unlock_and_wait_with(s, PASS);
}

fn unlock_and_wait_with(s: &Session, passphrase: &str) {
    s.unlock(passphrase);
    s.find("[data-testid=new-person]", 60);
}

/// Waits for the unlock screen, how long it took.
fn locked_within(s: &Session, what: &str) -> Duration {
    let t = Instant::now();
    s.wait_for(
        "return !!document.querySelector('[data-testid=passphrase]') && !document.querySelector('[data-testid=new-person]')",
        10,
        &format!("the unlock screen after {what}"),
    );
    t.elapsed()
}

#[test]
fn sleep_and_the_session_lock_lock_the_vault() {
    let sb = Sandbox::start();
    drop({
        let mut v = new_vault(&sb.home.join(".local/share/kuager/default"));
        add_person(&mut v, "Сенбай Нұрахен");
        v
    });
    let (_bus, address) = private_bus(&sb);
    let mut logind = Logind::start(&address);
    let wrapper = launcher(
        &sb,
        "kuager-app-on-the-test-bus",
        &format!("env DBUS_SYSTEM_BUS_ADDRESS='{address}'"),
    );

    let s = sb.launch_binary(&wrapper);
    // At start the app asks logind for a delay inhibitor, so a sleep waits for the lock.
    logind.expect("inhibit");
    unlock_and_wait(&s);

    logind.send("sleep");
    let took = locked_within(&s, "PrepareForSleep(true)");
    // Locked, the app lets the sleep go on; on waking it takes a new inhibitor.
    logind.expect("released");
    logind.send("wake");
    logind.expect("inhibit");
    eprintln!("sleep: unlock screen after {} ms", took.as_millis());

    // Sleep while the vault is busy (a wrong passphrase's back-off holds it for a second): the
    // inhibitor is kept until the lock is really done, not dropped at once.
    unlock_and_wait(&s);
    s.exec(
        "window.__TAURI_INTERNALS__.invoke('recipients_remove', { recipient: 'x', passphrase: 'not the passphrase at all' }).catch(() => {});",
        serde_json::json!([]),
    );
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    logind.send("sleep");
    logind.expect("released");
    let held = t.elapsed();
    locked_within(&s, "PrepareForSleep(true) with the vault busy");
    eprintln!(
        "sleep with the vault busy: inhibitor held {} ms",
        held.as_millis()
    );
    assert!(
        held >= Duration::from_millis(300),
        "the sleep went on before the busy vault was locked ({} ms)",
        held.as_millis()
    );
    logind.send("wake");
    logind.expect("inhibit");

    unlock_and_wait(&s);
    logind.send("lock");
    let took = locked_within(&s, "the session's Lock");
    eprintln!("session Lock: unlock screen after {} ms", took.as_millis());

    unlock_and_wait(&s);
    logind.send("hint");
    let took = locked_within(&s, "LockedHint turning true");
    eprintln!("LockedHint: unlock screen after {} ms", took.as_millis());

    // Settings: a new passphrase with new keys (issue #10, item 6), through the app's command.
    unlock_and_wait(&s);
    s.click(&s.find("[data-testid=nav-settings]", 10));
    s.type_text(&s.find("[data-testid=change-current]", 10), PASS);
    for field in ["change-new1", "change-new2"] {
        s.type_text(&s.find(&format!("[data-testid={field}]"), 5), NEW_PASS);
    }
    s.click(&s.find("[data-testid=rotate-keys]", 5));
    s.click(&s.find("[data-testid=change-passphrase]", 5));
    s.wait_for(
        "const m = document.querySelector('[data-testid=settings-message]'); return !!m && /\\d/.test(m.textContent)",
        60,
        "the keys to be replaced",
    );
    s.click(&s.find("[data-testid=lock]", 5));
    // The old passphrase opens nothing any more; the new one does.
    s.unlock(PASS);
    s.find("[data-testid=unlock] [role=alert]", 30);
    s.clear(&s.find("[data-testid=passphrase]", 5));
    unlock_and_wait_with(&s, NEW_PASS);
    s.quit();
}
