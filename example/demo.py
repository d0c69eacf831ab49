"""``python -m example [backend]`` (``./dev demo``): the example site on an emulated service.

Starts the backend's emulator, migrates a throwaway SQLite database, runs
``collectstatic`` into the emulated storage, creates an admin user, and serves
the site on 127.0.0.1 until Ctrl-C or SIGTERM; then it stops the server and
every emulator it started, and removes its temporary files.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from emulators.base import EmulatorUnavailable
from emulators.session import EmulatorSession

from .backends import ALIASES, BACKENDS, NotServable, SiteStorage, canonical, check_servable, configure

HOST = "127.0.0.1"
DEFAULT_PORT = 8000
ADMIN_USER = "admin"
#: The admin's autocomplete assets (select2 and its 60 translations): this admin has no
#: autocomplete fields, and skipping them halves what collectstatic uploads.
UNUSED_STATIC = ["select2", "autocomplete.*", "gis"]


def issuing_ca(bundle: str, host: str, port: int) -> bytes:
    """The certificate in ``bundle`` that issued the TLS certificate served at ``host:port`` (PEM)."""
    import ssl
    import warnings

    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    leaf = x509.load_pem_x509_certificate(ssl.get_server_certificate((host, port)).encode())
    with warnings.catch_warnings():  # a few public roots in the bundle have non-positive serials
        warnings.simplefilter("ignore")
        certificates = x509.load_pem_x509_certificates(Path(bundle).read_bytes())
    for cert in certificates:
        if cert.subject == leaf.issuer:
            leaf.verify_directly_issued_by(cert)
            return cert.public_bytes(Encoding.PEM)
    raise RuntimeError(f"no certificate in {bundle} issued the one served at {host}:{port}")


def setup_django(site: SiteStorage, workdir: Path) -> str:
    """Configure Django for ``site``, migrate, collect static files; returns the admin password."""
    os.environ.update(site.environ)
    os.environ["EXAMPLE_SITE"] = json.dumps(site.as_dict())
    os.environ["EXAMPLE_DATABASE"] = str(workdir / "db.sqlite3")
    os.environ.setdefault("EXAMPLE_SECRET_KEY", secrets.token_urlsafe(32))
    os.environ["DJANGO_SETTINGS_MODULE"] = "example.settings"
    import django
    from django.core.management import call_command

    django.setup()
    check_servable(site)
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0, ignore_patterns=UNUSED_STATIC)
    from django.contrib.auth import get_user_model

    password = secrets.token_urlsafe(12)
    get_user_model().objects.create_superuser(ADMIN_USER, password=password)
    return password


def make_server(port: int, quiet: bool) -> Any:
    """Django's threaded development WSGI server on HOST:port (port 0: any free one)."""
    import logging

    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    if quiet:
        logging.getLogger("django.server").setLevel(logging.WARNING)
    try:
        server = ThreadedWSGIServer((HOST, port), WSGIRequestHandler)
    except OSError as exc:
        if port != DEFAULT_PORT:
            raise
        print(f"port {port} is taken ({exc.strerror}); using a free one", file=sys.stderr)
        server = ThreadedWSGIServer((HOST, 0), WSGIRequestHandler)
    server.set_app(get_wsgi_application())
    return server


def announce(site: SiteStorage, url: str, password: str, ca_file: str | None, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"url": url, "admin_url": url + "admin/", "username": ADMIN_USER,
                          "password": password, "backend": site.backend, "label": site.label,
                          "endpoint": site.endpoint, "served": site.served, "ca_file": ca_file}), flush=True)
        return
    lines = [
        f"Example site with its files on {site.label}",
        f"  site:  {url}  (upload an image and a file; the list shows each from its storage URL)",
        f"  admin: {url}admin/  (user {ADMIN_USER}, password {password})",
        f"  URLs:  {site.url_kind}",
    ]
    if ca_file:
        lines.append(f"  TLS:   the links' certificate comes from the fake's throwaway CA, {ca_file}; "
                     "trust it in your browser, or open one link and accept the warning, to see the images")
    lines.append("Press Ctrl-C to stop the site and the emulator.")
    print("\n".join(lines), flush=True)


def serve(backend: str, port: int, *, as_json: bool, quiet: bool) -> int:
    with EmulatorSession() as session, tempfile.TemporaryDirectory(prefix="storages-example-") as tmp:
        workdir = Path(tmp)
        site = configure(backend, session)
        ca_file = None
        if site.ca_bundle:
            host, _, tls_port = site.endpoint.rpartition("//")[2].partition(":")
            ca_file = str(workdir / "ca.pem")
            Path(ca_file).write_bytes(issuing_ca(site.ca_bundle, host, int(tls_port)))
        password = setup_django(site, workdir)
        server = make_server(port, quiet)
        thread = threading.Thread(target=server.serve_forever, name="example-site", daemon=True)
        thread.start()
        try:
            announce(site, f"http://{HOST}:{server.server_address[1]}/", password, ca_file, as_json)
            threading.Event().wait()
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m example", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("backend", nargs="?", default=os.environ.get("EXAMPLE_BACKEND", "s3"),
                        help=f"one of {', '.join([*BACKENDS, *ALIASES])} (default: $EXAMPLE_BACKEND or s3)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port on {HOST} (default {DEFAULT_PORT}, or a free one if taken; 0: any)")
    parser.add_argument("--json", action="store_true", help="print one JSON line when ready (for tests)")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    args = parser.parse_args(argv)
    try:
        backend = canonical(args.backend)
    except ValueError as exc:
        parser.error(str(exc))
    # Ctrl-C and SIGTERM both raise KeyboardInterrupt, which stops everything (SIGINT too when
    # the demo was started with SIGINT ignored, as background jobs of a script are).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler)
    try:
        return serve(backend, args.port, as_json=args.json, quiet=args.quiet)
    except KeyboardInterrupt:
        print("stopped: the site and the emulator are down", file=sys.stderr, flush=True)
        return 0
    except (NotServable, EmulatorUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        if args.json:
            kind = "not_servable" if isinstance(exc, NotServable) else "unavailable"
            print(json.dumps({"error": str(exc), "kind": kind}), flush=True)
        return 2
