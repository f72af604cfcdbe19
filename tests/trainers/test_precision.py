"""The one precision decision: auto follows the hardware, a request is obeyed."""
import time

import pytest
import torch

from trainers.engine import precision
from trainers.engine.precision import choose_precision


@pytest.fixture
def cpu(monkeypatch):
    def make(native: bool, speedup: float = 2.0):
        monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: native)
        monkeypatch.setattr(precision, "cpu_bf16_speedup", lambda workload=None: speedup)
    return make


def test_auto_keeps_fp32_on_a_cpu_without_native_bf16_whatever_a_measurement_would_say(cpu):
    cpu(native=False, speedup=5.0)
    chosen = choose_precision("auto", "cpu")
    assert (chosen.name, chosen.dtype, chosen.needs_grad_scaler) == ("fp32", None, False)
    assert "no native bf16" in chosen.reason


def test_auto_picks_bf16_on_a_cpu_with_native_bf16_measured_faster(cpu):
    cpu(native=True, speedup=1.8)
    chosen = choose_precision("auto", torch.device("cpu"))
    assert (chosen.name, chosen.dtype) == ("bf16", torch.bfloat16)
    assert "1.80x" in chosen.reason


def test_auto_keeps_fp32_where_native_bf16_is_not_measurably_faster(cpu):
    cpu(native=True, speedup=1.05)
    assert choose_precision("auto", "cpu").name == "fp32"


@pytest.mark.parametrize("capability, expected, scaled", [((8, 0), "bf16", False), ((9, 0), "bf16", False),
                                                          ((7, 5), "fp16", True), ((7, 0), "fp16", True)])
def test_auto_on_cuda_picks_bf16_from_ampere_on_else_fp16_with_a_grad_scaler(monkeypatch, capability, expected,
                                                                              scaled):
    asked = []
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device: asked.append(device) or capability)
    chosen = choose_precision("auto", "cuda:1")
    assert asked == [torch.device("cuda:1")]  # the device the work runs on, not the current one
    assert (chosen.name, chosen.device_type, chosen.needs_grad_scaler) == (expected, "cuda", scaled)


@pytest.mark.parametrize("requested", ["fp32", "bf16", "fp16"])
def test_a_requested_precision_is_obeyed_on_any_cpu(cpu, requested):
    cpu(native=False)
    chosen = choose_precision(requested, "cpu")
    assert chosen.name == requested and chosen.reason == "requested"
    assert chosen.describe() == {"precision": requested, "device": "cpu", "reason": "requested"}


def test_an_unknown_precision_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="auto, fp32, bf16, fp16"):
        choose_precision("fp8", "cpu")


@pytest.mark.parametrize("name, dtype", [("fp32", torch.float32), ("bf16", torch.bfloat16)])
def test_the_autocast_context_computes_matmuls_in_the_chosen_dtype(name, dtype):
    with choose_precision(name, "cpu").autocast():
        product = torch.ones(2, 2) @ torch.ones(2, 2)
    assert product.dtype == dtype


def test_the_measurement_alternates_the_dtypes_after_a_warm_up_of_each():
    calls = []

    def workload(dtype):
        calls.append(dtype)
        time.sleep(0.02 if dtype is None else 0.01)

    assert precision.measure_speedup(workload, repeats=2) == pytest.approx(2.0, rel=0.3)
    assert calls == [None, torch.bfloat16] * 3


def test_the_stand_in_block_runs_in_both_dtypes():
    step = precision._conv_block_step()
    step(None)
    step(torch.bfloat16)
