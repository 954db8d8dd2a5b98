#!/bin/sh
# vHPC toolkit example post script: the second step. With barriers it runs
# only after every VM has finished the steps of the earlier barriers.
set -eu
if [ -f /tmp/vhpc-hello.log ]; then
    echo "hello world 2 from $(hostname): earlier steps left $(wc -l < /tmp/vhpc-hello.log) line(s)"
else
    echo "hello world 2 from $(hostname): first script on this VM"
fi
