"""SEED.md, "Storage": standard file access, on every backend."""


def test_exists_open_write_read_delete(storage):
    assert storage.exists("storage_test") is False
    file = storage.open("storage_test", "w")
    file.write("storage contents")
    file.close()

    assert storage.exists("storage_test") is True
    file = storage.open("storage_test", "r")
    assert file.read() == "storage contents"
    file.close()

    storage.delete("storage_test")
    assert storage.exists("storage_test") is False
