import json
import os

import pytest
import torch

from trainers.core import Callbacks, Cancelled
from trainers.engine import fit
from trainers.engine.checkpoint import atomic_save

from engine_toys import ToyRecipe, toy_config


class Killed(Exception):
    pass


def _kill_after(n_checkpoints: int) -> Callbacks:
    seen = []

    def on_checkpoint(path):
        seen.append(path)
        if len(seen) == n_checkpoints:
            raise Killed()

    return Callbacks(on_checkpoint=on_checkpoint)


def _weights(path):
    return torch.load(path, weights_only=True)


def test_a_run_killed_after_epoch_2_and_resumed_ends_with_the_same_weights(tmp_path):
    full = fit(ToyRecipe(toy_config()), tmp_path / "full")

    with pytest.raises(Killed):
        fit(ToyRecipe(toy_config()), tmp_path / "killed", _kill_after(2))
    resumed_recipe = ToyRecipe(toy_config())
    resumed = fit(resumed_recipe, tmp_path / "killed")

    assert resumed.resumed_from_epoch == 2 and full.resumed_from_epoch == 0
    assert resumed_recipe.started_with_resume == [True]
    last_full = _weights(tmp_path / "full/checkpoints/last.pt")
    last_resumed = _weights(tmp_path / "killed/checkpoints/last.pt")
    for key, value in last_full["model"].items():
        assert torch.equal(value, last_resumed["model"][key]), key
    assert last_full["state"]["global_step"] == last_resumed["state"]["global_step"] == 4 * 5
    assert [h["train_loss"] for h in full.history] == [h["train_loss"] for h in resumed.history]
    exported_full = _weights(full.artifact_dir / "weights.pt")
    exported_resumed = _weights(resumed.artifact_dir / "weights.pt")
    assert all(torch.equal(v, exported_resumed[k]) for k, v in exported_full.items())


def test_a_run_killed_mid_epoch_resumes_at_the_next_step_with_the_same_weights(tmp_path, monkeypatch):
    from trainers.engine import loop

    monkeypatch.setattr(loop, "STOP_POLL_INTERVAL_S", 0)  # poll after every step
    full = fit(ToyRecipe(toy_config()), tmp_path / "full")

    mid_epoch_steps = []

    def kill_at_step_7(path):
        state = _weights(path)["state"]
        if state["epoch_step"]:
            mid_epoch_steps.append(state["global_step"])
        if state["global_step"] == 7:  # step 2 of epoch 2 (5 steps per epoch)
            raise Killed()

    with pytest.raises(Killed):
        fit(ToyRecipe(toy_config()), tmp_path / "killed",
            Callbacks(on_checkpoint=kill_at_step_7, should_checkpoint=lambda: True))
    assert mid_epoch_steps == [1, 2, 3, 4, 5, 6, 7]
    steps_trained = []
    resumed_recipe = ToyRecipe(toy_config())
    train_step = resumed_recipe.train_step
    resumed_recipe.train_step = lambda *args: steps_trained.append(1) or train_step(*args)
    resumed = fit(resumed_recipe, tmp_path / "killed")

    assert (resumed.resumed_from_epoch, resumed.resumed_from_step) == (1, 7)
    assert len(steps_trained) == 4 * 5 - 7  # nothing trained twice
    assert [h["train_loss"] for h in full.history] == [h["train_loss"] for h in resumed.history]
    last_full = _weights(tmp_path / "full/checkpoints/last.pt")
    last_resumed = _weights(tmp_path / "killed/checkpoints/last.pt")
    for key, value in last_full["model"].items():
        assert torch.equal(value, last_resumed["model"][key]), key
    assert last_resumed["state"]["epoch_step"] == 0 and last_resumed["state"]["global_step"] == 20


def test_a_run_stopped_after_an_epoch_s_last_step_resumes_into_its_evaluation(tmp_path, monkeypatch):
    from trainers.engine import loop

    monkeypatch.setattr(loop, "STOP_POLL_INTERVAL_S", 0)
    full = fit(ToyRecipe(toy_config(epochs=2)), tmp_path / "full")
    steps = []

    def checkpoint_at_step_5():  # polled once after every step (before should_stop)
        steps.append(1)
        return len(steps) == 5

    with pytest.raises(Cancelled):  # a worker asked to stop right after epoch 1's last step
        fit(ToyRecipe(toy_config(epochs=2)), tmp_path / "stopped",
            Callbacks(should_checkpoint=checkpoint_at_step_5, should_stop=lambda: len(steps) == 5))
    resumed_recipe = ToyRecipe(toy_config(epochs=2))
    resumed = fit(resumed_recipe, tmp_path / "stopped")
    assert (resumed.resumed_from_epoch, resumed.resumed_from_step) == (0, 5)
    assert [h["epoch"] for h in resumed.history] == [1, 2]
    assert [h["train_loss"] for h in full.history] == [h["train_loss"] for h in resumed.history]


def test_the_artifact_holds_the_best_epochs_weights_and_metrics(tmp_path):
    result = fit(ToyRecipe(toy_config(), scripted_metrics=[0.2, 0.9, 0.5, 0.4]), tmp_path)
    assert result.best_epoch == 2 and result.metrics["accuracy"] == 0.9
    best = _weights(tmp_path / "checkpoints/best.pt")
    assert best["epoch"] == 2
    exported = _weights(result.artifact_dir / "weights.pt")
    assert all(torch.equal(v, exported[k]) for k, v in best["model"].items())
    metrics = (result.artifact_dir / "metrics.json").read_text()
    assert '"accuracy": 0.9' in metrics and '"best_epoch": 2' in metrics
    assert sorted(p.name for p in result.artifact_dir.iterdir()) == [
        "config.json", "labels.json", "metrics.json", "weights.pt"]


def test_it_stops_early_after_patience_evaluations_without_improvement(tmp_path):
    recipe = ToyRecipe(toy_config(epochs=10, early_stopping_patience=2),
                       scripted_metrics=[0.5, 0.6, 0.6, 0.55, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9])
    result = fit(recipe, tmp_path)
    assert recipe.evaluations == 4  # 0.6 at epoch 2, then two evaluations without improvement
    assert result.best_epoch == 2
    assert [h["epoch"] for h in result.history] == [1, 2, 3, 4]
    # resuming a run that already stopped early trains nothing more
    again = ToyRecipe(toy_config(epochs=10, early_stopping_patience=2), scripted_metrics=[])
    assert fit(again, tmp_path).best_epoch == 2 and again.evaluations == 0


def test_min_mode_monitor_keeps_the_lowest_value(tmp_path):
    recipe = ToyRecipe(toy_config(epochs=3, monitor_mode="min"), scripted_metrics=[0.5, 0.2, 0.3])
    assert fit(recipe, tmp_path).best_epoch == 2


def test_should_stop_cancels_the_fit_and_is_polled_sparingly(tmp_path):
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) >= 3

    with pytest.raises(Cancelled):
        fit(ToyRecipe(toy_config(epochs=50)), tmp_path, Callbacks(should_stop=should_stop))
    saved = _weights(tmp_path / "checkpoints/last.pt")
    steps = saved["state"]["global_step"]
    assert saved["state"]["epoch"] < 50
    assert len(calls) == 3 and steps >= 5  # polled at start, then time-throttled or per epoch, not per step
    assert not (tmp_path / "artifact").exists()


def test_progress_reports_epoch_step_and_eta(tmp_path):
    reports = []
    fit(ToyRecipe(toy_config(epochs=3)), tmp_path, Callbacks(on_progress=reports.append))
    # 24 items / batch 5 -> 5 steps an epoch; a tiny run reports at each epoch end (plus timed ones)
    ends = [r for r in reports if r.step % 5 == 0]
    assert [(r.epoch, r.step) for r in ends][-3:] == [(1, 5), (2, 10), (3, 15)]
    last = reports[-1]
    assert last.steps == 15 and last.percent == 100.0 and last.epochs == 3
    assert last.eta_seconds == 0.0 and isinstance(last.loss, float)
    assert len(reports) <= 3 + 2  # throttled to about once a second plus once an epoch


def test_on_metrics_gets_every_evaluation(tmp_path):
    seen = []
    fit(ToyRecipe(toy_config(epochs=3, eval_every_epochs=2), scripted_metrics=[0.1, 0.2]), tmp_path,
        Callbacks(on_metrics=lambda epoch, step, metrics: seen.append((epoch, step, metrics["accuracy"]))))
    assert seen == [(2, 10, 0.1), (3, 15, 0.2)]  # every 2nd epoch and always the last


def test_items_per_epoch_larger_than_the_dataset_samples_with_replacement(tmp_path):
    reports = []
    fit(ToyRecipe(toy_config(epochs=1, items_per_epoch=50, batch_size=10)), tmp_path,
        Callbacks(on_progress=reports.append))
    assert reports[-1].steps == 5


def test_a_failed_checkpoint_write_leaves_the_previous_file_intact(tmp_path):
    path = tmp_path / "last.pt"
    atomic_save({"epoch": 1}, path)

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_save({"epoch": 2, "bad": Unpicklable()}, path)
    assert torch.load(path, weights_only=True) == {"epoch": 1}
    assert os.listdir(tmp_path) == ["last.pt"]  # no temp file left behind


def test_bf16_trains_under_bf16_autocast_with_channels_last_batches_and_fp32_without(tmp_path):
    recipe = ToyRecipe(toy_config(epochs=1, precision="bf16"))
    fit(recipe, tmp_path)
    assert recipe.step_context == {"channels_last": True, "autocast": torch.bfloat16}
    off = ToyRecipe(toy_config(epochs=1, precision="fp32", channels_last=False))
    fit(off, tmp_path / "off")
    assert off.step_context == {"channels_last": False, "autocast": False}


@pytest.mark.parametrize("bf16_is_fast, expected", [(True, torch.bfloat16), (False, False)])
def test_auto_trains_in_the_precision_the_hardware_decision_gives(tmp_path, monkeypatch, bf16_is_fast, expected):
    from trainers.engine import precision

    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: bf16_is_fast)
    monkeypatch.setattr(precision, "cpu_bf16_speedup", lambda workload=None: 2.0)
    recipe = ToyRecipe(toy_config(epochs=1, precision="auto"))
    result = fit(recipe, tmp_path)
    assert recipe.step_context["autocast"] == expected
    recorded = json.loads((result.artifact_dir / "config.json").read_text())["training_precision"]
    assert recorded["precision"] == result.precision == ("bf16" if bf16_is_fast else "fp32")
    assert recorded["reason"].startswith("auto:")


def test_fp16_uses_a_grad_scaler_whose_state_is_checkpointed(tmp_path):
    result = fit(ToyRecipe(toy_config(epochs=2, precision="fp16", grad_clip_norm=1.0)), tmp_path)
    scaler = _weights(tmp_path / "checkpoints/last.pt")["scaler"]
    assert scaler["scale"] > 0 and scaler["_growth_tracker"] == 10  # 10 finite steps since the start
    assert all(entry["train_loss"] == entry["train_loss"] for entry in result.history)  # not NaN


def test_a_lone_last_item_is_left_out_of_the_epoch_instead_of_making_a_batch_of_one(tmp_path):
    recipe = ToyRecipe(toy_config(epochs=2, batch_size=5), n_items=11)  # 5 + 5 + 1
    sizes = []
    train_step = recipe.train_step
    recipe.train_step = lambda model, batch, device: sizes.append(len(batch[0])) or train_step(model, batch, device)
    fit(recipe, tmp_path)
    assert sizes == [5, 5, 5, 5]
    assert _weights(tmp_path / "checkpoints/last.pt")["state"]["global_step"] == 4


@pytest.mark.parametrize("before, after", [("bf16", "fp16"), ("fp16", "bf16")])
def test_a_run_resumes_where_the_new_hardware_picks_another_precision(tmp_path, before, after):
    with pytest.raises(Killed):
        fit(ToyRecipe(toy_config(epochs=2, precision=before)), tmp_path, _kill_after(1))
    resumed = fit(ToyRecipe(toy_config(epochs=2, precision=after)), tmp_path)
    assert resumed.resumed_from_epoch == 1 and len(resumed.history) == 2


def test_auto_times_the_recipes_own_step_on_a_copy_and_leaves_the_fit_as_it_would_be(tmp_path, monkeypatch):
    from trainers.engine import precision

    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: False)
    plain = fit(ToyRecipe(toy_config(epochs=2, precision="auto")), tmp_path / "plain")  # fp32, nothing timed
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: True)
    monkeypatch.setattr(precision, "cpu_bf16_speedup", precision.measure_speedup)  # really times the workload
    monkeypatch.setattr(precision, "BF16_MIN_SPEEDUP", float("inf"))  # times both, then keeps fp32
    recipe = ToyRecipe(toy_config(epochs=2, precision="auto"))
    steps = []
    train_step = recipe.train_step
    recipe.train_step = lambda model, batch, device: steps.append(torch.is_autocast_enabled("cpu")) or train_step(
        model, batch, device)
    probed = fit(recipe, tmp_path / "probed")
    assert probed.precision == plain.precision == "fp32"
    assert steps[:8] == [False, True] * 4  # a warm-up and 3 timed steps in each dtype, before training
    plain_weights = torch.load(plain.artifact_dir / "weights.pt", weights_only=True)
    probed_weights = torch.load(probed.artifact_dir / "weights.pt", weights_only=True)
    assert all(torch.equal(plain_weights[k], probed_weights[k]) for k in plain_weights)
    assert [h["train_loss"] for h in probed.history] == [h["train_loss"] for h in plain.history]


def test_a_resumed_fit_reports_where_it_goes_on_from_before_it_trains(tmp_path):
    with pytest.raises(Killed):
        fit(ToyRecipe(toy_config()), tmp_path, _kill_after(2))  # 5 steps an epoch
    events = []
    recipe = ToyRecipe(toy_config())
    train_step = recipe.train_step
    recipe.train_step = lambda *args: events.append("step") or train_step(*args)
    fit(recipe, tmp_path, Callbacks(on_resume=lambda epoch, step: events.append(("resume", epoch, step)),
                                    on_progress=lambda p: events.append(("progress", p.epoch, p.step, p.loss))))
    assert events[:3] == [("resume", 2, 10), ("progress", 3, 10, None), "step"]


def test_a_fresh_fit_does_not_report_a_resume(tmp_path):
    resumes = []
    fit(ToyRecipe(toy_config(epochs=1)), tmp_path, Callbacks(on_resume=lambda *at: resumes.append(at)))
    assert resumes == []
