#!/bin/sh
# vHPC toolkit example post script: the second step. With barriers it runs
# only after every VM has finished the steps of the earlier barriers.
set -eu
if [ -f /tmp/vhpc-hello.log ]; then
    lines=$(wc -l < /tmp/vhpc-hello.log)
    if [ "$lines" -eq 1 ]; then word=line; else word=lines; fi
    echo "hello world 2 from $(hostname): earlier steps left $lines $word"
else
    echo "hello world 2 from $(hostname): first script on this VM"
fi
