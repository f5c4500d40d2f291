//! A small WebDriver client: the W3C commands the tests need, as JSON over HTTP.

use std::io::Read;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub(super) fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(120))
        .build()
}

pub(super) fn read(resp: Result<ureq::Response, ureq::Error>) -> Value {
    let resp = match resp {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("webdriver: {e}"),
    };
    let mut s = String::new();
    resp.into_reader().read_to_string(&mut s).unwrap();
    serde_json::from_str(&s).unwrap_or(Value::Null)
}

pub(super) fn post(url: &str, body: &Value) -> Value {
    read(agent().post(url).send_json(body.clone()))
}

/// A WebDriver session (W3C protocol, just the commands the tests need).
pub struct Session {
    pub(super) url: String,
}

/// An element reference.
#[derive(Clone)]
pub struct El(String);

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Session {
    /// Sends a W3C WebDriver command of this session (`path` after `session/<id>/`).
    pub fn cmd(&self, path: &str, body: Value) -> Value {
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
                let shot = crate::root().join("target/e2e-failure.png");
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
