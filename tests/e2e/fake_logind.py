#!/usr/bin/python3
"""A stand-in for systemd-logind on a private bus, for tests/e2e/tests/sleep.rs.

Owns org.freedesktop.login1 on the bus at $KUAGER_TEST_BUS, answers GetSessionByPID,
GetSession and Inhibit (a delay inhibitor: the write end of a pipe, whose closing it reports),
and emits what logind emits, one command per line on stdin:

  sleep  -> Manager.PrepareForSleep(true)     wake -> Manager.PrepareForSleep(false)
  lock   -> Session.Lock()                    hint -> Session PropertiesChanged LockedHint=true

Prints one line per event on stdout: ready, inhibit, released.
"""
import os
import sys

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

MANAGER_PATH = "/org/freedesktop/login1"
SESSION_PATH = "/org/freedesktop/login1/session/e2e"
XML = """
<node>
  <interface name="org.freedesktop.login1.Manager">
    <method name="GetSessionByPID"><arg type="u" direction="in"/><arg type="o" direction="out"/></method>
    <method name="GetSession"><arg type="s" direction="in"/><arg type="o" direction="out"/></method>
    <method name="Inhibit">
      <arg type="s" direction="in"/><arg type="s" direction="in"/>
      <arg type="s" direction="in"/><arg type="s" direction="in"/>
      <arg type="h" direction="out"/>
    </method>
    <signal name="PrepareForSleep"><arg type="b"/></signal>
  </interface>
</node>
"""


def say(word):
    print(word, flush=True)


def on_call(conn, sender, path, iface, method, params, invocation):
    if method in ("GetSessionByPID", "GetSession"):
        invocation.return_value(GLib.Variant("(o)", (SESSION_PATH,)))
    elif method == "Inhibit":
        what, who, why, mode = params.unpack()
        if (what, mode) != ("sleep", "delay"):
            invocation.return_dbus_error("org.freedesktop.DBus.Error.InvalidArgs", "unexpected")
            return
        r, w = os.pipe()
        fds = Gio.UnixFDList.new()
        fds.append(w)
        os.close(w)
        invocation.return_value_with_unix_fd_list(GLib.Variant("(h)", (0,)), fds)
        say("inhibit")

        def closed(fd, cond):
            os.close(fd)
            say("released")
            return False

        GLib.unix_fd_add_full(GLib.PRIORITY_DEFAULT, r, GLib.IOCondition.HUP, closed)
    else:
        invocation.return_dbus_error("org.freedesktop.DBus.Error.UnknownMethod", method)


def main():
    conn = Gio.DBusConnection.new_for_address_sync(
        os.environ["KUAGER_TEST_BUS"],
        Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
        | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
        None,
        None,
    )
    info = Gio.DBusNodeInfo.new_for_xml(XML)
    conn.register_object(MANAGER_PATH, info.interfaces[0], on_call, None, None)
    conn.call_sync(
        "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
        "RequestName", GLib.Variant("(su)", ("org.freedesktop.login1", 4)),
        None, Gio.DBusCallFlags.NONE, -1, None,
    )

    def command(source, cond):
        line = sys.stdin.readline()
        if not line:
            loop.quit()
            return False
        word = line.strip()
        if word in ("sleep", "wake"):
            conn.emit_signal(None, MANAGER_PATH, "org.freedesktop.login1.Manager",
                             "PrepareForSleep", GLib.Variant("(b)", (word == "sleep",)))
        elif word == "lock":
            conn.emit_signal(None, SESSION_PATH, "org.freedesktop.login1.Session", "Lock", None)
        elif word == "hint":
            conn.emit_signal(
                None, SESSION_PATH, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                GLib.Variant("(sa{sv}as)", ("org.freedesktop.login1.Session",
                                            {"LockedHint": GLib.Variant("b", True)}, [])))
        conn.flush_sync(None)
        say("sent " + word)
        return True

    loop = GLib.MainLoop()
    GLib.io_add_watch(GLib.IOChannel.unix_new(sys.stdin.fileno()), GLib.IO_IN | GLib.IO_HUP, command)
    say("ready")
    loop.run()


main()
