"""An example Django site whose files live on an emulated storage service (see README.md)."""
