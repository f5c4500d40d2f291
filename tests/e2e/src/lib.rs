//! The end-to-end tests' own steps in the Kuager app, on top of the shared harness
//! (`testkit::driver`: Xvfb, tauri-driver, a WebDriver client, a sandboxed `$HOME`).

use std::path::{Path, PathBuf};

pub use testkit::canary::canary_hits;
pub use testkit::driver::{El, Sandbox, Session};
pub use testkit::root;

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

/// Starting the Kuager app in a sandbox.
pub trait App {
    /// A WebDriver session on a fresh start of the app, run under `strace` watching every
    /// network call (R10); read it with [`App::network_calls`].
    fn launch(&self) -> Session;
    /// Network calls the app made to anything but this machine's loopback (R10), from strace.
    fn network_calls(&self) -> Vec<String>;
    /// Fails when the app, since [`App::launch`], called out beyond this machine (R10). Called
    /// after the session quits, so the whole run is in the log.
    fn assert_no_network_calls(&self) {
        let calls = self.network_calls();
        assert!(
            calls.is_empty(),
            "the app called beyond this machine (R10): {calls:#?}"
        );
    }
    /// Fails unless the running app and every WebKit process it started may write no core
    /// file (R12): `RLIMIT_CORE` 0, set first thing in `main` and inherited by its children.
    fn assert_no_core_dumps(&self);
}

/// An executable script outside the scanned folders that starts the app binary after `prefix`
/// (a command it runs under, or variables it sets), for [`Sandbox::launch_binary`].
pub fn launcher(sb: &Sandbox, name: &str, prefix: &str) -> PathBuf {
    let script = sb.outside.join(name);
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nexec {prefix} '{}' \"$@\"\n",
            app_binary().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    script
}

fn strace_log(sb: &Sandbox) -> PathBuf {
    sb.outside.join("network.strace")
}

impl App for Sandbox {
    fn launch(&self) -> Session {
        let wrapper = launcher(
            self,
            "kuager-app-under-strace",
            &format!(
                "strace -f -qq --seccomp-bpf -e trace=%network -o '{}'",
                strace_log(self).display()
            ),
        );
        self.launch_binary(&wrapper)
    }

    fn network_calls(&self) -> Vec<String> {
        let log = std::fs::read_to_string(strace_log(self)).expect("the strace log");
        assert!(
            !log.is_empty(),
            "strace recorded nothing: is the app running under it?"
        );
        testkit::network::foreign_network_calls(&log)
    }

    fn assert_no_core_dumps(&self) {
        use testkit::leaks::{core_file_limit, process_name, processes_with_home};
        // The app and WebKit's web and network processes; not the test's own tauri-driver,
        // WebKitWebDriver or strace. (`comm` is cut at 15 characters.)
        let ours: Vec<(u32, String)> = processes_with_home(&self.home)
            .into_iter()
            .map(|pid| (pid, process_name(pid)))
            .filter(|(_, n)| {
                n == "kuager-app" || (n.starts_with("WebKit") && n != "WebKitWebDriver")
            })
            .collect();
        for want in ["kuager-app", "WebKitWebProces"] {
            assert!(
                ours.iter().any(|(_, n)| n == want),
                "no running {want} among {ours:?}"
            );
        }
        // This test's own process may write one (the hard limit at least): the app's limit
        // comes from the app, not from its parents.
        assert_ne!(
            core_file_limit("self"),
            ["0", "0"],
            "the check below cannot fail"
        );
        for (pid, name) in ours {
            let core = core_file_limit(&pid.to_string());
            assert_eq!(
                core,
                ["0", "0"],
                "{name} ({pid}) may write a core file (R12)"
            );
        }
    }
}

/// Steps a caseworker takes in the app, used by several tests.
pub trait Steps {
    /// Unlocks the vault from the unlock screen.
    fn unlock(&self, passphrase: &str);
    /// On a new case: finds a person by `query`, adds them and the first testimony offered
    /// from them, saves, and waits until the saved case is shown again.
    fn case_with_person_and_testimony(&self, query: &str);
}

impl Steps for Session {
    fn unlock(&self, passphrase: &str) {
        self.type_text(&self.find("[data-testid=passphrase]", 60), passphrase);
        self.click(&self.find("[data-testid=unlock-button]", 5));
    }

    fn case_with_person_and_testimony(&self, query: &str) {
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
}

/// Chooses `file` in the system's file dialog the app just opened (GTK's, under this
/// sandbox's X display), with the keys a person would use: the location field (Ctrl+L), the
/// path, Enter. `xdotool` comes from `packaging/linux/deps.sh`.
pub fn choose_in_file_dialog(sb: &Sandbox, file: &Path) {
    let x = |args: &[&str]| -> String {
        let o = std::process::Command::new("xdotool")
            .args(args)
            .env("DISPLAY", &sb.display)
            .output()
            .expect("xdotool (packaging/linux/deps.sh installs it)");
        String::from_utf8_lossy(&o.stdout).trim().to_owned()
    };
    let dialog = || x(&["search", "--onlyvisible", "--name", "^Open"]);
    let t = std::time::Instant::now();
    let window = loop {
        let w = dialog();
        if let Some(w) = w.lines().last().filter(|w| !w.is_empty()) {
            break w.to_owned();
        }
        assert!(
            t.elapsed() < std::time::Duration::from_secs(30),
            "no file dialog opened"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    // Keys typed before GTK has shown the location field go elsewhere (its search): each
    // attempt waits for the field, replaces what it holds, and gives Enter time; up to four.
    for _ in 0..4 {
        x(&["windowfocus", "--sync", &window]);
        x(&["key", "ctrl+l"]);
        std::thread::sleep(std::time::Duration::from_millis(400));
        x(&["key", "ctrl+a"]);
        x(&["type", "--delay", "1", file.to_str().unwrap()]);
        // Enter right after typing is taken by the path's completion: wait, then again while
        // the dialog is still there.
        for _ in 0..6 {
            std::thread::sleep(std::time::Duration::from_millis(300));
            if dialog().is_empty() {
                return;
            }
            x(&["key", "Return"]);
        }
    }
    panic!("the file dialog did not take {}", file.display());
}

/// The default vault folder of a sandbox (the one the app opens).
pub fn vault_dir(sb: &Sandbox) -> PathBuf {
    sb.home.join(".local/share/kuager/default")
}

/// A sandbox whose default vault is a coordinator's, unlocked by `testkit::fixture::PASS`: it
/// holds an organisation identity, whose `age-keygen`-style key file is `outside/org.key`; the
/// app speaks English. Returns the sandbox and the identity.
pub fn coordinator_sandbox() -> (Sandbox, age::x25519::Identity) {
    let sb = Sandbox::start();
    let config = sb.home.join(".config/kuager/app.json");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, r#"{"language":"en","autolock_minutes":30}"#).unwrap();
    let identity = age::x25519::Identity::generate();
    {
        use age::secrecy::ExposeSecret;
        std::fs::write(
            sb.outside.join("org.key"),
            format!("{}\n", identity.to_string().expose_secret()),
        )
        .unwrap();
    }
    let mut v = testkit::fixture::new_vault(&vault_dir(&sb));
    v.import_identity_file(&sb.outside.join("org.key"), Some("organisation"))
        .unwrap();
    (sb, identity)
}

/// A caseworker's vault made with the `kuager` command (the debug build `make test` builds).
pub fn kuager_cli() -> testkit::cli::Env {
    testkit::cli::Env::new(root().join("target/debug/kuager").to_str().unwrap()).with_vault()
}

/// `kuager export` of what `env` has not exported yet, copied to `dest/NAME.age`.
pub fn cli_export(env: &testkit::cli::Env, dest: &Path, name: &str) -> PathBuf {
    let out = env.outside.join(name);
    std::fs::create_dir_all(&out).unwrap();
    let written = PathBuf::from(env.ok(&["export", "-o", out.to_str().unwrap()], "").trim());
    let to = dest.join(format!("{name}.age"));
    std::fs::copy(&written, &to).unwrap();
    to
}
