"""The conformance suite's `emulators.contract.test_direct_uploads`, run here on every selected backend."""

from emulators.contract.test_direct_uploads import *  # noqa: F403
