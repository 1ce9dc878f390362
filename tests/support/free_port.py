#!/usr/bin/env python3
"""Prints a TCP port of 127.0.0.1 that is free now, below the kernel's
ephemeral range (the source ports of outgoing connections), so that no
connection of a test running meanwhile takes it before the process it is
meant for binds it (nm_test_free_port() in nm_test.c does the same)."""
import random
import socket

try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
except (OSError, ValueError, IndexError):
    low = 32768
high = max(low - 1, 11000)
for _ in range(1000):
    port = random.randint(10000, high)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    raise SystemExit("free_port: no free port")
