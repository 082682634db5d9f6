"""Threads, devices and precision: settings TensorFlow takes before it starts, so the
multi-device run happens in a fresh interpreter with the CPU split into two devices."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from handrec.errors import ConfigError
from handrec.models import build_model
from handrec.models.cnn import CnnParams
from handrec.training import strategy_scope
from handrec.training.fit import TrainSpec, fit
from tests.test_training import toy

TWO_CPU_DEVICES = textwrap.dedent(
    """
    import json
    import tensorflow as tf
    from handrec.training import configure_threads, strategy_scope
    from handrec.training.fit import TrainSpec, fit
    from handrec.models import build_model
    from handrec.models.cnn import CnnParams
    from tests.test_training import toy

    threads = [configure_threads(2)]
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    spec = TrainSpec(epochs=1, batch_size=16, verbose=0, distribute="mirrored")
    with strategy_scope(spec.distribute, spec.precision) as strategy:
        model = build_model(CnnParams(blocks=1, filters=4, dense_units=8), 2)
    history = fit(model, toy(64, 0), toy(32, 1), spec)
    threads += [configure_threads(2), configure_threads(1)]
    print(json.dumps({"replicas": strategy.num_replicas_in_sync, "threads": threads,
                      "val_accuracy": history["val_accuracy"]}))
    """
)


def test_mirrored_training_runs_on_two_cpu_devices_and_threads_are_set_once():
    done = subprocess.run(
        [sys.executable, "-c", TWO_CPU_DEVICES],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2
    assert len(result["val_accuracy"]) == 1
    # before the runtime starts: set; after: the same number is fine, another is refused
    assert result["threads"] == [True, True, False]


@pytest.mark.parametrize("setting", [{"distribute": "mirrored"}, {"precision": "mixed_float16"}])
def test_a_model_built_outside_the_strategy_scope_is_refused(setting):
    model = build_model(CnnParams(blocks=1, filters=4, dense_units=8), 2)
    with pytest.raises(ConfigError, match="build it inside handrec.training.strategy_scope"):
        fit(model, toy(16, 0), toy(16, 1), TrainSpec(**setting, verbose=0))


def test_mixed_precision_computes_in_bfloat16_with_a_float32_output_and_trains():
    spec = TrainSpec(epochs=1, batch_size=16, verbose=0, precision="mixed_bfloat16")
    with strategy_scope(spec.distribute, spec.precision):
        model = build_model(CnnParams(blocks=1, filters=4, dense_units=8), 2)
        history = fit(model, toy(32, 0), toy(16, 1), spec)
    convolution = next(layer for layer in model.layers if type(layer).__name__ == "Conv2D")
    assert convolution.compute_dtype == "bfloat16"
    assert model.output.dtype == "float32"
    assert len(history["loss"]) == 1


def test_the_global_dtype_policy_returns_after_the_scope():
    import keras

    with strategy_scope(precision="mixed_float16"):
        assert keras.mixed_precision.global_policy().name == "mixed_float16"
    assert keras.mixed_precision.global_policy().name == "float32"
