# free_port for the shell tests: source it once $tmp is set (testlib.sh
# does). free_port prints a TCP port of 127.0.0.1 that was free a moment
# ago, below the ephemeral range, and never one handed out before to the
# same test ($NM_PORTS_TAKEN, a file in $tmp: free_port.py).
export NM_PORTS_TAKEN=$tmp/ports-taken
free_port() { /usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/free_port.py"; }
