"""crc32_combine: the CRC32 of a whole from its parts' CRC32s, as zlib's C function gives it."""

from __future__ import annotations

import random
import zlib

import pytest

from storages.core.checksums import crc32_combine


@pytest.mark.parametrize("sizes", [(0, 0), (1, 0), (0, 9), (3, 7), (65536, 65536 + 5), (1000, 3, 0, 250_000)])
def test_combined_crc32_equals_zlibs_over_the_whole(sizes):
    rng = random.Random(sum(sizes))
    parts = [rng.randbytes(size) for size in sizes]
    whole = 0
    for part in parts:
        whole = crc32_combine(whole, zlib.crc32(part), len(part))
    assert whole == zlib.crc32(b"".join(parts))


def test_blocks_of_one_size_combine_in_order():
    """As BlockUpload combines its blocks: equal blocks, then an empty combine changes nothing."""
    zeros = zlib.crc32(bytes(1 << 20))
    whole = 0
    for _ in range(4):
        whole = crc32_combine(whole, zeros, 1 << 20)
    assert crc32_combine(0, zlib.crc32(b"ab"), 2) == zlib.crc32(b"ab")
    assert whole == zlib.crc32(bytes(4 << 20))
