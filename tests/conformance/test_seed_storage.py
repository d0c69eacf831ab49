"""The conformance suite's `emulators.contract.test_seed_storage`, run here against every selected backend."""

from emulators.contract.test_seed_storage import *  # noqa: F403
