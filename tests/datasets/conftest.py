import pytest

from tests.datasets.dataset_zip_helpers import write_zip


@pytest.fixture
def make_zip(tmp_path):
    """make_zip({name: bytes}) -> path of a zip holding exactly those members."""
    def make(members, name="upload.zip", **kwargs):
        return write_zip(tmp_path / name, members, **kwargs)

    return make


@pytest.fixture
def dest(tmp_path):
    return tmp_path / "datasets" / "ds1"
