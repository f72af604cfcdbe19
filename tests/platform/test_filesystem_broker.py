"""The embedded broker (filesystem://) never hands a worker a half-written message, and a
message file it cannot read is dropped instead of killing the worker."""
import os
from queue import Empty

import pytest
from kombu import Connection
from kombu.transport import resolve_transport

import platform_api.celery  # noqa: F401  (makes filesystem:// this transport)
from platform_api.work import filesystem_broker
from platform_api.work.filesystem_broker import Transport


@pytest.fixture
def channel(tmp_path):
    folder = tmp_path / "queue"
    folder.mkdir()
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder),
               "processed_folder": str(tmp_path / "processed"), "store_processed": False}
    connection = Connection(transport=Transport, transport_options=options)
    yield connection.default_channel
    connection.release()


def test_filesystem_means_the_platform_s_transport():
    assert resolve_transport("filesystem") is Transport


def test_a_message_being_written_is_invisible_to_a_polling_worker(channel, monkeypatch):
    seen_while_writing = []
    rename = os.replace

    def replace(source, destination):
        try:  # a worker polls after the file was written, before it is renamed into place
            seen_while_writing.append(channel._get("training"))
        except Empty:
            seen_while_writing.append(None)
        rename(source, destination)

    monkeypatch.setattr(filesystem_broker.os, "replace", replace)
    channel._put("training", {"body": "job 7"})
    assert seen_while_writing == [None]
    assert channel._get("training") == {"body": "job 7"}


def test_an_unreadable_message_file_is_dropped_and_the_next_message_delivered(channel):
    folder = channel.data_folder_in
    open(os.path.join(folder, "1_broken.training.msg"), "wb").close()  # empty, as kombu's race left one
    channel._put("training", {"body": "job 8"})
    assert channel._get("training") == {"body": "job 8"}
    with pytest.raises(Empty):
        channel._get("training")
    assert os.listdir(folder) == []
