"""``python -m emulators up [names]``: local development against emulated services.

Starts the emulators (every implemented one by default), prints for each the
``STORAGES`` entry and environment variables a Django project needs, makes one
save/read/url round trip through each backend, then stays up until Ctrl-C and
stops every process it started. ``--faults`` arms injected faults (after the
round trips) for manual trials; see docs/testing.md for the syntax.
"""

from __future__ import annotations

import argparse
import json
import pprint
import shlex
import signal
import sys
import threading
from typing import Any

from .base import Emulator
from .modes import MODES, resolve_mode
from .registry import EMULATORS, available_selections
from .session import EmulatorSession

SMOKE_NAME = "emulators-up/hello.txt"
SMOKE_BYTES = b"hello from storages\n"


def _configure_django() -> None:
    from django.conf import settings

    if not settings.configured:
        settings.configure(USE_TZ=True, MEDIA_URL="/media/", STATIC_URL="/static/",
                           INSTALLED_APPS=["storages"])
        import django

        django.setup()


def settings_snippet(emulator: Emulator, options: dict[str, Any]) -> str:
    """The settings.py lines that point ``default`` storage at the emulator."""
    lines = ["STORAGES = {", '    "default": {', f'        "BACKEND": {emulator.backend!r},',
             '        "OPTIONS": {']
    for key, value in options.items():
        text = pprint.pformat(value, width=80, sort_dicts=False).replace("\n", "\n" + " " * 12)
        lines.append(f"            {key!r}: {text},")
    lines += ["        },", "    },", "}"]
    return "\n".join(lines)


def round_trip(emulator: Emulator, options: dict[str, Any]) -> str:
    """Save, read back and url() one small file through the backend; returns the URL."""
    from django.core.files.base import ContentFile
    from django.utils.module_loading import import_string

    storage = import_string(emulator.backend)(**options)
    name = storage.save(SMOKE_NAME, ContentFile(SMOKE_BYTES))
    with storage.open(name, "rb") as f:
        data = f.read()
    if data != SMOKE_BYTES:
        raise RuntimeError(f"read back {data!r}, expected {SMOKE_BYTES!r}")
    url = storage.url(name)
    storage.delete(name)
    return url


def describe(emulator: Emulator, options: dict[str, Any]) -> dict[str, Any]:
    from .external import external_env

    return {"name": emulator.name, "backend": emulator.backend, "options": options,
            "env": emulator.env(), "endpoint": emulator.endpoint,
            "host": emulator.host, "port": emulator.port, "external_env": external_env(emulator)}


def up(names: list[str], *, as_json: bool, smoke: bool, wait: bool = True, mode: str | None = None,
       as_env: bool = False, faults: Any = ()) -> int:
    _configure_django()
    stop = threading.Event()
    starting = [False]  # an emulator is starting: Ctrl-C cuts it short (KeyboardInterrupt)

    def interrupted(*_: Any) -> None:
        """Ctrl-C: stop. Only a start in progress is cut short; anywhere else (printing, waiting,
        stopping the emulators) the run just ends as after SIGTERM, and a second Ctrl-C waits."""
        first = not stop.is_set()
        stop.set()
        if first and starting[0]:
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        with EmulatorSession(mode) as session:
            return _serve(session, names, stop, starting, as_json=as_json, as_env=as_env, smoke=smoke,
                          wait=wait, faults=faults)
    except KeyboardInterrupt:  # a start cut short: the session stopped what it had started
        return 1
    finally:
        signal.signal(signal.SIGINT, previous)


def _serve(session: EmulatorSession, names: list[str], stop: threading.Event, starting: list[bool], *,
           as_json: bool, as_env: bool, smoke: bool, wait: bool, faults: Any) -> int:
    """Start each emulator, print how to use it, then wait for ``stop``; how many failed."""
    failures = 0
    for name in names:
        if stop.is_set():
            break
        try:
            starting[0] = True
            emulator = session.get(name)
            # an external service has no default namespace: the run makes (and deletes) one
            external = session.mode == "external"
            options = emulator.new_namespace() if external else emulator.storage_options()
            url = round_trip(emulator, options) if smoke else None
        except Exception as exc:  # report every emulator, keep the others running
            failures += 1
            print(f"!! {name}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            continue
        finally:
            starting[0] = False
        if as_json:
            print(json.dumps(describe(emulator, options), default=str), flush=True)
            continue
        if as_env:  # what --storage-emulators=external reads (docs/containers.md)
            from .external import external_env

            for key, value in external_env(emulator).items():
                print(f"export {key}={shlex.quote(str(value))}")
            sys.stdout.flush()
            continue
        print(f"\n== {emulator.describe()} ==")
        print(settings_snippet(emulator, options))
        env = emulator.env()
        if env:
            print("# environment, for code that configures the SDK itself:")
            for key, value in env.items():
                print(f"export {key}={shlex.quote(str(value))}")
        if smoke:
            print(f"# round trip OK: saved, read back and deleted {SMOKE_NAME!r}; url() gave {url}")
        sys.stdout.flush()
    if faults:
        from .observe import arm_for_run

        arm_for_run(list(faults), lambda line: print(line, file=sys.stderr, flush=True))
    print(("# " if as_env else "") + ("READY" if not failures else f"READY with {failures} failure(s)"),
          flush=True)
    if wait:
        if not as_json and not as_env:
            print("Emulators are up; press Ctrl-C to stop them.", flush=True)
        while not stop.wait(0.5):
            pass
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulators", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    up_parser = sub.add_parser("up", help="start emulators, print settings, smoke-test, stay up")
    up_parser.add_argument("names", nargs="*", help=f"any of: {', '.join(EMULATORS)} (default: all)")
    up_parser.add_argument("--json", action="store_true", help="one JSON line per emulator")
    up_parser.add_argument("--no-smoke", action="store_true", help="skip the round trip")
    up_parser.add_argument("--once", action="store_true", help="exit after the round trips")
    up_parser.add_argument("--env", action="store_true",
                           help="print only `export` lines for pytest --storage-emulators=external")
    up_parser.add_argument("--emulators", choices=MODES, default=None,
                           help="native (default, or $STORAGE_EMULATORS), docker or external")
    up_parser.add_argument("--faults", action="append", default=[], metavar="SPEC",
                           help="inject faults, e.g. 's3:put=503,times=2;ftp:retr=cut:1000' "
                                "(syntax: docs/testing.md)")
    sub.add_parser("list", help="list the emulators this checkout has")
    args = parser.parse_args(argv)
    if args.command == "list":
        for name in available_selections():
            print(name)
        return 0
    unknown = [n for n in args.names if n not in EMULATORS]
    if unknown:
        parser.error(f"unknown emulator(s): {', '.join(unknown)}; valid: {', '.join(EMULATORS)}")
    from .faults import parse_faults

    try:
        faults = parse_faults(";".join(args.faults))
    except ValueError as exc:
        parser.error(f"--faults: {exc}")
    if faults and resolve_mode(args.emulators) != "native":
        parser.error("--faults: only the native emulators inject faults (their proxies and hooks)")
    names = args.names or available_selections()
    return up(names, as_json=args.json, smoke=not args.no_smoke, wait=not args.once, mode=args.emulators,
              as_env=args.env, faults=faults)
