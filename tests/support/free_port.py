#!/usr/bin/env python3
"""Prints a TCP port of 127.0.0.1 that is free now, below the kernel's
ephemeral range (the source ports of outgoing connections), so that no
connection of a test running meanwhile takes it before the process it is
meant for binds it (nm_test_free_port() in nm_test.c does the same).

With $NM_PORTS_TAKEN set (a file; free_port.sh sets it in the test's $tmp),
never a port handed out before to the same test: two ports asked for in a
row are distinct even before either is bound (binding to port 0 was seen
to hand the same port twice: test_cli_python's queue and collector)."""
import os
import random
import socket

try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
except (OSError, ValueError, IndexError):
    low = 32768
high = max(low - 1, 11000)
taken_path = os.environ.get("NM_PORTS_TAKEN", "")
taken = set()
if taken_path and os.path.exists(taken_path):
    with open(taken_path) as f:
        taken = {int(line) for line in f if line.strip().isdigit()}
for _ in range(1000):
    port = random.randint(10000, high)
    if port in taken:
        continue
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    if taken_path:
        with open(taken_path, "a") as f:
            f.write("%d\n" % port)
    print(port)
    break
else:
    raise SystemExit("free_port: no free port")
