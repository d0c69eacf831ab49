"""The conformance suite's `emulators.contract.test_seed_model`, run here against every selected backend."""

from emulators.contract.test_seed_model import *  # noqa: F403
