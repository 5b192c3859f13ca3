"""`python -m sandbox.nextcloud --data DIR --port N --user U:P` (benchmarks use it)."""

from __future__ import annotations

import argparse
import json
import signal
import threading

from sandbox.nextcloud.server import NextcloudServer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.nextcloud")
    parser.add_argument("--data", required=True, help="data directory (created if missing)")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--user", action="append", default=[], metavar="NAME:PASSWORD")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--windows-compatible", action="store_true")
    parser.add_argument("--group-folders", action="store_true")  # the Group folders app
    args = parser.parse_args(argv)
    users = dict(item.split(":", 1) for item in args.user) or {"admin": "admin"}
    server = NextcloudServer(args.data, users, port=args.port, threads=args.threads,
                             group_folders=args.group_folders)
    server.set_windows_compatible(args.windows_compatible)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    with server:
        # One JSON line on stdout so a parent process can read the port and credentials.
        print(json.dumps(server.describe()), flush=True)
        stopped.wait()


if __name__ == "__main__":
    main()
