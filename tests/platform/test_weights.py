import io

import torch

from platform_api.registry.models import PretrainedWeights


def state_dict_file(state) -> io.BytesIO:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    buffer.name = "weights.pt"
    return buffer


def register(api, name="imagenet", architecture="resnet18", file=None):
    file = file or state_dict_file({"conv1.weight": torch.zeros(64, 3, 7, 7)})
    return api.post("/api/v1/weights/", {"name": name, "architecture": architecture, "file": file}, format="multipart")


def test_it_registers_a_state_dict_file(api):
    response = register(api)
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "imagenet" and response.json()["size_bytes"] > 0


def test_it_refuses_a_file_that_is_not_a_state_dict(api):
    bogus = io.BytesIO(b"not a checkpoint")
    bogus.name = "w.pt"
    response = register(api, file=bogus)
    assert response.status_code == 400
    assert "state-dict" in response.json()["file"][0]
    assert PretrainedWeights.objects.count() == 0


def test_it_refuses_a_pickle_that_would_run_code(api):
    class Evil:
        def __reduce__(self):
            return (print, ("owned",))

    buffer = io.BytesIO()
    torch.save({"x": Evil()}, buffer)
    buffer.seek(0)
    buffer.name = "evil.pt"
    assert register(api, file=buffer).status_code == 400


def test_it_refuses_a_duplicate_name_for_the_same_architecture(api):
    assert register(api).status_code == 201
    response = register(api)
    assert response.status_code == 400
    assert "already registered" in response.json()["file"][0]
    assert register(api, architecture="resnet50").status_code == 201


def test_it_refuses_an_architecture_no_trainer_uses(api):
    response = register(api, architecture="resnet-50")
    assert response.status_code == 400
    message = response.json()["architecture"][0]
    assert "resnet-50" in message and "resnet50" in message and "bn_inception" in message and "stdc2" in message
    assert PretrainedWeights.objects.count() == 0
