//! Locks the vault when the laptop goes to sleep and when the desktop session locks (issue #10,
//! item 4), from systemd-logind's signals on the system bus:
//!
//! - `PrepareForSleep(true)` on `org.freedesktop.login1.Manager`, before suspend or hibernate.
//!   We hold a *delay* inhibitor (`Inhibit("sleep", …, "delay")`) all along, so that logind
//!   waits for us (at most its `InhibitDelayMaxSec`, 5 s by default) before sleeping; we
//!   release it right after locking and take a new one on resume.
//! - `Lock` on our session's object (`loginctl lock-session`, and what screen lockers answer),
//!   and `LockedHint` turning true on it (GNOME and KDE set it when their lock screen shows).
//!
//! Signals are taken only from the owner of `org.freedesktop.login1` (on the system bus only
//! logind may own it). No logind (a container, another init): nothing is watched, and the idle
//! timer still locks, on a clock that counts sleep (`crate::clock`). Everything here runs on
//! the main thread's GLib loop; every call to logind has a short timeout.

use std::cell::RefCell;
use std::rc::Rc;

use gio::glib::{Variant, VariantTy};
use gio::prelude::*;
use gio::{BusType, Cancellable, DBusCallFlags, DBusConnection, DBusSignalFlags, UnixFDList};
use tauri::{AppHandle, Manager};

const LOGIND: &str = "org.freedesktop.login1";
const MANAGER_PATH: &str = "/org/freedesktop/login1";
const MANAGER: &str = "org.freedesktop.login1.Manager";
const SESSION: &str = "org.freedesktop.login1.Session";
/// How long a call to logind may take (it answers in microseconds; never hang the window).
const TIMEOUT_MS: i32 = 2000;

/// Starts watching; returns what it could watch, for the log (`sleep`, `session`).
pub fn watch(app: &AppHandle) -> Vec<&'static str> {
    let Ok(bus) = gio::bus_get_sync(BusType::System, Cancellable::NONE) else {
        return vec![];
    };
    let mut watching = vec![];
    let inhibitor: Rc<RefCell<Option<UnixFDList>>> = Rc::new(RefCell::new(inhibit(&bus)));
    {
        let app = app.clone();
        let inhibitor = inhibitor.clone();
        bus.signal_subscribe(
            Some(LOGIND),
            Some(MANAGER),
            Some("PrepareForSleep"),
            Some(MANAGER_PATH),
            None,
            DBusSignalFlags::NONE,
            move |bus, _, _, _, _, params| match params.get::<(bool,)>() {
                Some((true,)) => {
                    if crate::lock_and_reload(&app) == crate::state::Lock::Done {
                        // Closing our end lets the sleep go on.
                        inhibitor.borrow_mut().take();
                    } else {
                        // The vault was busy (an export, an unlock's back-off): the sleep
                        // waits until the lock is done (logind waits at most its
                        // InhibitDelayMaxSec).
                        release_once_locked(&app, inhibitor.clone());
                    }
                }
                Some((false,)) => *inhibitor.borrow_mut() = inhibit(bus),
                None => {}
            },
        );
        watching.push("sleep");
    }
    if let Some(session) = our_session(&bus) {
        let lock = app.clone();
        bus.signal_subscribe(
            Some(LOGIND),
            Some(SESSION),
            Some("Lock"),
            Some(&session),
            None,
            DBusSignalFlags::NONE,
            move |_, _, _, _, _, _| {
                crate::lock_and_reload(&lock);
            },
        );
        let hint = app.clone();
        bus.signal_subscribe(
            Some(LOGIND),
            Some("org.freedesktop.DBus.Properties"),
            Some("PropertiesChanged"),
            Some(&session),
            Some(SESSION),
            DBusSignalFlags::NONE,
            move |_, _, _, _, _, params| {
                if locked_hint(params) {
                    crate::lock_and_reload(&hint);
                }
            },
        );
        watching.push("session");
    }
    // GIO keeps the system bus connection only while someone holds it, and closes it (and every
    // subscription) with the last reference: the app holds it for its whole life.
    app.manage(SystemBus { _connection: bus });
    watching
}

/// The system bus connection the subscriptions live on.
struct SystemBus {
    _connection: DBusConnection,
}

/// Closes the inhibitor once the pending lock is applied, checking on the GLib loop.
fn release_once_locked(app: &AppHandle, inhibitor: Rc<RefCell<Option<UnixFDList>>>) {
    let app = app.clone();
    gio::glib::timeout_add_local(std::time::Duration::from_millis(20), move || {
        if app.state::<crate::state::AppState>().lock_is_pending() {
            return gio::glib::ControlFlow::Continue;
        }
        inhibitor.borrow_mut().take();
        gio::glib::ControlFlow::Break
    });
}

/// A delay inhibitor for sleep: logind waits for us to close it before suspending.
fn inhibit(bus: &DBusConnection) -> Option<UnixFDList> {
    let args = (
        "sleep",
        "Kuager",
        "Locking the vault before the computer sleeps",
        "delay",
    )
        .to_variant();
    bus.call_with_unix_fd_list_sync(
        Some(LOGIND),
        MANAGER_PATH,
        MANAGER,
        "Inhibit",
        Some(&args),
        Some(VariantTy::new("(h)").expect("a valid type")),
        DBusCallFlags::NONE,
        TIMEOUT_MS,
        UnixFDList::NONE,
        Cancellable::NONE,
    )
    .ok()
    .map(|(_, fds)| fds)
}

/// The object path of the logind session this process belongs to.
fn our_session(bus: &DBusConnection) -> Option<String> {
    let call = |method: &str, args: Variant| {
        bus.call_sync(
            Some(LOGIND),
            MANAGER_PATH,
            MANAGER,
            method,
            Some(&args),
            Some(VariantTy::new("(o)").expect("a valid type")),
            DBusCallFlags::NONE,
            TIMEOUT_MS,
            Cancellable::NONE,
        )
        .ok()
        .and_then(|v| v.child_value(0).str().map(str::to_owned))
    };
    call("GetSessionByPID", (std::process::id(),).to_variant()).or_else(|| {
        let id = std::env::var("XDG_SESSION_ID").ok()?;
        call("GetSession", (id,).to_variant())
    })
}

/// Whether a `PropertiesChanged(s, a{sv}, as)` of a session says `LockedHint` is now true.
fn locked_hint(params: &Variant) -> bool {
    params.n_children() >= 2
        && params
            .child_value(1)
            .get::<std::collections::HashMap<String, Variant>>()
            .and_then(|m| m.get("LockedHint").and_then(Variant::get::<bool>))
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn only_locked_hint_true_locks() {
        let changed = |m: HashMap<&str, Variant>| (SESSION, m, Vec::<String>::new()).to_variant();
        let mut on = HashMap::new();
        on.insert("LockedHint", true.to_variant());
        assert!(locked_hint(&changed(on)));
        let mut off = HashMap::new();
        off.insert("LockedHint", false.to_variant());
        assert!(!locked_hint(&changed(off)));
        let mut other = HashMap::new();
        other.insert("IdleHint", true.to_variant());
        assert!(!locked_hint(&changed(other)));
        assert!(!locked_hint(&().to_variant()));
    }
}
