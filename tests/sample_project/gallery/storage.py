"""The project's own storage: a subclass of a backend (the conformance suite runs against it)."""

from storages.backends.s3 import S3Storage


class ReportStorage(S3Storage):
    """S3, with every file under ``reports/`` and tagged with the project that wrote it."""

    location = "reports"

    def get_object_parameters(self, name):
        params = super().get_object_parameters(name)
        params["Metadata"] = {**params.get("Metadata", {}), "project": "sample"}
        return params
