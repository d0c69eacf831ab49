"""The conformance suite's `emulators.contract.test_contract`, run here against every selected backend."""

from emulators.contract.test_contract import *  # noqa: F403
