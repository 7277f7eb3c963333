#!/usr/bin/env sh
# The instructor grader runs student code in a bubblewrap sandbox (course_lib/grading/bwrap.py).
# Installs bubblewrap when it is missing and this is root on Debian/Ubuntu; otherwise stops with the command to run.
set -eu
if command -v bwrap >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bubblewrap is missing: installing it (apt-get install -y bubblewrap)" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
    exit 0
fi
echo "bubblewrap (bwrap) is needed to grade in a sandbox. Install it, then run this again:" >&2
echo "    sudo apt-get install -y bubblewrap      # Debian/Ubuntu" >&2
echo "    sudo dnf install -y bubblewrap          # Fedora/RHEL" >&2
exit 1
