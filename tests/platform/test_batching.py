"""The batcher's timing rules, on a model that records the batches it is given (each request's
inputs here are a list of image names; the model answers each request with a list)."""
import threading
import time

import pytest

from platform_api.deployments.batching import Batcher, Closed, QueueFull


class RecordingModel:
    def __init__(self):
        self.batches = []

    def __call__(self, requests):
        self.batches.append([image for images in requests for image in images])
        return [[f"result of {image}" for image in images] for images in requests]


@pytest.fixture
def model():
    return RecordingModel()


def batcher_for(model, window_s=10.0, max_batch=8, queue_limit=16):
    return Batcher(model, window_s=window_s, max_batch=max_batch, queue_limit=queue_limit, name="test")


def test_a_lone_request_runs_at_once_without_waiting_for_the_window(model):
    batcher = batcher_for(model, window_s=10.0)
    start = time.monotonic()
    assert batcher.submit(["a", "b"]).result() == ["result of a", "result of b"]
    assert time.monotonic() - start < 2.0
    batcher.close()


def test_a_request_waits_for_one_still_decoding_and_they_run_as_one_pass(model):
    batcher = batcher_for(model, window_s=10.0)
    decoding = batcher.reserve(1)
    first = batcher.submit(["a"])
    time.sleep(0.3)  # the second request's images are still decoding
    assert model.batches == []
    second = decoding.submit(["b"])
    assert first.result() == ["result of a"] and second.result() == ["result of b"]
    assert model.batches == [["a", "b"]]
    batcher.close()


def test_the_window_bounds_the_wait_for_a_request_that_never_comes(model):
    batcher = batcher_for(model, window_s=0.3)
    batcher.reserve(1)  # never submitted
    start = time.monotonic()
    assert batcher.submit(["a"]).result() == ["result of a"]
    assert 0.25 <= time.monotonic() - start < 5.0
    batcher.close()


def test_a_request_that_fails_to_decode_frees_its_room_and_stops_the_wait(model):
    batcher = batcher_for(model, window_s=10.0, queue_limit=3)
    ticket = None
    start = time.monotonic()
    with pytest.raises(ValueError):
        with batcher.reserve(2):
            ticket = batcher.submit(["a"])  # queued while the other one decodes
            raise ValueError("cannot decode")
    assert ticket.result() == ["result of a"]
    assert time.monotonic() - start < 5.0  # did not wait out the window
    batcher.submit(["b", "c"]).result()  # its room is free again
    batcher.close()


def test_it_refuses_past_the_limit_counting_images_still_decoding(model):
    batcher = batcher_for(model, queue_limit=4)
    held = batcher.reserve(3)
    with pytest.raises(QueueFull) as refused:
        batcher.reserve(2)
    assert refused.value.retry_after_s > 0
    with held:
        pass
    batcher.reserve(4)
    batcher.close()


def test_a_request_whose_client_left_is_dropped_and_the_others_run(model):
    batcher = batcher_for(model, window_s=10.0)
    decoding = batcher.reserve(1)
    left = batcher.submit(["gone"], client_gone=lambda: True)
    stays = batcher.submit(["stays"], client_gone=lambda: False)
    decoding.submit(["late"])
    assert stays.result() == ["result of stays"]
    with pytest.raises(Exception) as dropped:
        left.result()
    assert type(dropped.value).__name__ == "Withdrawn"
    assert model.batches == [["stays", "late"]] and batcher.withdrawn == 1
    batcher.close()


def test_closing_fails_the_waiting_requests(model):
    release = threading.Event()
    batcher = Batcher(lambda requests: release.wait(10) and requests, window_s=0.0, max_batch=1, queue_limit=4)
    running = batcher.submit(["a"])
    waiting = batcher.submit(["b"])
    time.sleep(0.1)
    batcher.close()
    release.set()
    assert running.result() == ["a"]
    with pytest.raises(Closed):
        waiting.result()
