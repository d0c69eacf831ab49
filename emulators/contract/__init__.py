"""The conformance suite: the behaviours every storage backend honours, as pytest tests.

This repository runs it against every backend (``tests/conformance/`` re-exports these
modules). A project runs it against its own subclass of a backend, capability-gated
like ours, with the pytest plugin's ``--storage-class``::

    pytest --pyargs emulators.contract --storage-backend=s3 --storage-class=myproject.storage.MyStorage

Modules: ``test_contract`` (Django's Storage contract), ``test_direct_uploads``
(``direct_upload()`` grants used over HTTP by a client that is not the storage),
``test_seed_storage`` and ``test_seed_model`` (the original documentation's Storage and
Model examples; the model tests need ``"emulators.contract"`` in ``INSTALLED_APPS`` and
pytest-django, and are skipped, saying so, without them). Importing this package imports no test module.
"""
