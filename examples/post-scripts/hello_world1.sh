#!/bin/sh
# vHPC toolkit example post script: runs in the guest after the VM is up.
# Writes a greeting with the host name and the time, so you can see when it ran.
set -eu
echo "hello world 1 from $(hostname) at $(date -u +%Y-%m-%dT%H:%M:%SZ)" | tee -a /tmp/vhpc-hello.log
