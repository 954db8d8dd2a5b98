#!/bin/sh
# vHPC toolkit example post script: add the user "foo" if it is not there yet.
# Safe to run twice.
set -eu
if id foo >/dev/null 2>&1; then
    echo "user foo already exists"
    exit 0
fi
if command -v useradd >/dev/null 2>&1; then
    useradd -m -s /bin/sh foo
else
    adduser -D -s /bin/sh foo
fi
echo "user foo added"
