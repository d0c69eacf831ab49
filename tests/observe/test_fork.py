"""Scopes in a process forked from one whose emulators serve (manage.py test --parallel with the
runner): they would see nothing, so they say so; a process's own emulators work as usual."""

from __future__ import annotations

import multiprocessing
import os


def _in_child(queue, start_own: bool) -> None:
    from emulators.observe import storage_requests

    try:
        if start_own:
            from emulators.ftp import FTPEmulator

            with FTPEmulator() as ftp, storage_requests() as calls:
                ftp.client().quit()
            queue.put(("recorded", calls.operations()[:2]))
        else:
            with storage_requests():
                pass
            queue.put(("no error", None))
    except RuntimeError as exc:
        queue.put(("refused", str(exc)))


def _run_child(start_own: bool):
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_in_child, args=(queue, start_own))
    child.start()
    result = queue.get(timeout=60)
    child.join(timeout=30)
    return result


def test_a_scope_in_a_forked_worker_of_serving_emulators_is_refused(s3_emulator):
    kind, message = _run_child(start_own=False)
    assert kind == "refused"
    assert f"started by process {os.getpid()}" in message and "--parallel" in message


def test_a_forked_process_with_its_own_emulator_records(s3_emulator):
    assert _run_child(start_own=True) == ("recorded", ["user", "login"])
