"""Learning-rate schedules, read off the schedule objects step by step."""

import keras
import pytest

from handrec.errors import ConfigError
from handrec.training.schedules import (
    ScheduleSpec,
    learning_rate,
    make_optimizer,
    plateau_callback,
)

PEAK, EPOCHS, STEPS = 0.1, 10, 100  # 1,000 steps in all


def curve(spec: ScheduleSpec, *steps: int) -> list[float]:
    rate = learning_rate(spec, PEAK, EPOCHS, STEPS)
    return [float(keras.ops.convert_to_numpy(rate(step))) for step in steps]


def test_constant_and_plateau_are_a_plain_rate():
    assert learning_rate(ScheduleSpec("constant"), PEAK, EPOCHS, STEPS) == PEAK
    assert learning_rate(ScheduleSpec("plateau"), PEAK, EPOCHS, STEPS) == PEAK


def test_cosine_warms_up_linearly_then_decays_to_the_final_ratio():
    spec = ScheduleSpec("cosine", warmup_epochs=1, final_ratio=0.01)
    start, half_warm, peak, middle, end = curve(spec, 0, 50, 100, 550, 1000)
    assert (start, half_warm, peak) == pytest.approx((0.0, PEAK / 2, PEAK))
    assert middle == pytest.approx(PEAK * (0.01 + 0.99 * 0.5), rel=1e-4)
    assert end == pytest.approx(PEAK * 0.01)


def test_one_cycle_rises_to_the_peak_then_falls_below_its_start():
    spec = ScheduleSpec("one_cycle", start_ratio=0.04, peak_at=0.3, final_ratio=0.001)
    start, peak, end = curve(spec, 0, 300, 1000)
    assert (start, peak, end) == pytest.approx((PEAK * 0.04, PEAK, PEAK * 0.001))
    rising = curve(spec, 0, 100, 200, 300)
    assert rising == sorted(rising)


def test_step_multiplies_by_the_factor_every_step_epochs():
    spec = ScheduleSpec("step", step_epochs=3, factor=0.5)
    assert curve(spec, 0, 299, 300, 599, 600) == pytest.approx(
        [PEAK, PEAK, PEAK / 2, PEAK / 2, PEAK / 4]
    )


def test_plateau_is_keras_reduce_on_plateau_on_the_monitored_metric():
    callback = plateau_callback(ScheduleSpec("plateau", factor=0.2, patience=3), "val_loss")
    assert isinstance(callback, keras.callbacks.ReduceLROnPlateau)
    assert (callback.monitor, callback.factor, callback.patience) == ("val_loss", 0.2, 3)
    assert plateau_callback(ScheduleSpec("cosine"), "val_loss") is None


def test_sgd_is_nesterov_with_momentum_and_weight_decay_is_decoupled():
    optimizer = make_optimizer("sgd", 0.1, weight_decay=1e-4, momentum=0.8)
    assert isinstance(optimizer, keras.optimizers.SGD)
    assert (optimizer.nesterov, optimizer.momentum, optimizer.weight_decay) == (True, 0.8, 1e-4)
    assert make_optimizer("adam", 0.1, weight_decay=0.0, momentum=0.9).weight_decay is None


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"name": "linear"}, "train.schedule.name must be one of constant, cosine, one_cycle"),
        ({"warmup_epochs": -1}, "train.schedule.warmup_epochs must be >= 0"),
        ({"final_ratio": 2}, "train.schedule.final_ratio must be in [0, 1]"),
        ({"peak_at": 1}, "train.schedule.peak_at must be in (0, 1)"),
        ({"factor": 1}, "train.schedule.factor must be in (0, 1)"),
        ({"step_epochs": 0}, "train.schedule.step_epochs must be >= 1"),
        ({"patience": 0}, "train.schedule.patience must be >= 1"),
    ],
)
def test_bad_schedule_settings_name_the_key_and_range(settings, named):
    with pytest.raises(ConfigError) as info:
        ScheduleSpec(**settings)
    assert named in str(info.value)
