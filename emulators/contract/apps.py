from django.apps import AppConfig


class ContractConfig(AppConfig):
    """The model of the conformance suite's Model examples (``emulators.contract.models``)."""

    name = "emulators.contract"
    label = "storages_contract"
    default_auto_field = "django.db.models.AutoField"
