#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 that cuts every connection after LIMIT bytes from the client.

Usage: cut_proxy.py TARGET_PORT LIMIT_BYTES
Prints "READY <port>" once listening; runs until stdin closes.
"""
import socket, sys, threading

target, limit = int(sys.argv[1]), int(sys.argv[2])

def pipe(src, dst, budget):
    sent = 0
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if budget is not None and sent + len(data) > budget:
                dst.sendall(data[: budget - sent])
                break
            dst.sendall(data)
            sent += len(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()

def serve(ls):
    while True:
        try:
            c, _ = ls.accept()
        except OSError:
            return
        u = socket.create_connection(("127.0.0.1", target))
        threading.Thread(target=pipe, args=(c, u, limit), daemon=True).start()
        threading.Thread(target=pipe, args=(u, c, None), daemon=True).start()

ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(16)
print("READY", ls.getsockname()[1], flush=True)
threading.Thread(target=serve, args=(ls,), daemon=True).start()
sys.stdin.read()
