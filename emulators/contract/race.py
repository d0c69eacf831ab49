"""Create-only saves racing for one name (imported by the conformance tests, not fixtures).

:func:`race_round` starts ``writers`` threads at one barrier, each saving its own bytes
under the same name with overwriting off, and checks byte ownership: every writer got
a name of its own, each name holds exactly the bytes of the writer that got it (so
every writer's bytes are somewhere, and no writer's bytes replaced another's), and the
directory holds those names and nothing else (no stray copy, no temporary file).
"""

from __future__ import annotations

import posixpath
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from django.core.files.base import ContentFile

#: Writers per round: enough that, on a service whose create-only save is a check
#: followed by a replace, some pair lands inside the window in most rounds.
WRITERS = 12
#: Rounds of the separately selected stress variant (``-m storage_stress``).
STRESS_ROUNDS = 50


def payload(round_no: int, writer: int) -> bytes:
    """Bytes only this writer of this round writes (lengths differ too)."""
    return f"round {round_no} writer {writer:02d};".encode() * (writer + 1)


def race_round(storages: list[Any], directory: str, round_no: int = 0, writers: int = WRITERS) -> None:
    """One race of ``writers`` saves of ``directory/race.txt``; writer ``i`` uses
    ``storages[i % len(storages)]`` (threads sharing a storage, and storages of their own).
    Fails with the writers' names and what each name holds when ownership is broken."""
    barrier = threading.Barrier(writers)
    target = posixpath.join(directory, "race.txt")

    def save(i: int) -> str:
        barrier.wait()
        return storages[i % len(storages)].save(target, ContentFile(payload(round_no, i)))

    with ThreadPoolExecutor(writers) as pool:
        names = list(pool.map(save, range(writers)))
    reader = storages[0]
    held = {name: reader.open(name).read() for name in set(names)}
    lost = [(i, name, _owner(held[name], round_no, writers)) for i, name in enumerate(names)
            if held[name] != payload(round_no, i)]
    assert len(set(names)) == writers and not lost, (
        f"round {round_no}: {writers} writers got {len(set(names))} names; writers whose name holds "
        f"other bytes (writer, name, owner of the bytes there): {lost}")
    _, files = reader.listdir(directory)
    expected = sorted(posixpath.basename(name) for name in names)
    assert sorted(files) == expected, f"round {round_no}: {directory!r} holds {files}, expected {expected}"


def race_rounds(make: Callable[..., Any], rounds: int, writers: int = WRITERS) -> None:
    """``rounds`` races, each in a directory of its own, on two storages made by ``make``."""
    storages = [make(file_overwrite=False), make(file_overwrite=False)]
    for round_no in range(rounds):
        race_round(storages, f"race-{round_no}", round_no, writers)


def _owner(data: bytes, round_no: int, writers: int) -> str:
    for i in range(writers):
        if data == payload(round_no, i):
            return f"writer {i}"
    return f"nobody ({len(data)} bytes)"
