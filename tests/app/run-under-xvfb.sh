#!/bin/sh
# Runs an app test on a private X server (Xvfb) with a private D-Bus session bus, so that
# GTK finds a display and GApplication a bus; exit 77 (skip) when either is not installed.
command -v xvfb-run >/dev/null 2>&1 || { echo "xvfb-run not installed: skipped"; exit 77; }
command -v dbus-run-session >/dev/null 2>&1 || { echo "dbus-run-session not installed: skipped"; exit 77; }
exec dbus-run-session -- xvfb-run -a -s "-screen 0 1920x1200x24 -nolisten tcp" "$@"
