"""The three layers: handrec (domain) never loads Hydra, OmegaConf, MLflow or the glue, not even
lazily while the applications load and use a local model through it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import numpy as np

from handrec import shipped

PAGE = Path(__file__).resolve().parents[1] / "src" / "apps" / "page.py"
GLUE = ("hydra", "omegaconf", "mlflow", "experiments")

# Imports every handrec module and reads with the shipped model as the applications do; prints
# the glue loaded by then. Then the page and the predict CLI load a local model (nothing to
# resolve) and read with it; prints the glue loaded by then (experiments.cli, the CLI convention,
# is glue the predict CLI uses; MLflow and Hydra are not needed to read with a local model).
SCRIPT = textwrap.dedent(
    """
    import importlib, json, os, pkgutil, sys
    import handrec

    def glue():
        return sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[3:]))

    for module in pkgutil.walk_packages(handrec.__path__, "handrec."):
        importlib.import_module(module.name)
    from handrec.inference import Predictor
    from handrec.preprocess import decode_image
    predictor = Predictor.load(os.environ["HANDREC_MODEL"])
    predictor.read_line(decode_image(open(sys.argv[2], "rb").read()))
    print(json.dumps(glue()))

    from streamlit.testing.v1 import AppTest
    page = AppTest.from_file(sys.argv[1], default_timeout=120).run()
    assert not page.exception and not page.error, page
    assert any(c.value.startswith("Loaded") for c in page.caption), page.caption

    from apps.predict import main
    assert main(["--model", os.environ["HANDREC_MODEL"], "--line", sys.argv[2]]) == 0
    print(json.dumps(glue()))
    """
)


def test_handrec_and_local_model_loading_import_no_hydra_omegaconf_mlflow_or_experiments(
    tmp_path,
):
    image = np.full((60, 120), 235, np.uint8)
    cv2.putText(image, "42", (10, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 20, 4)
    cv2.imwrite(str(tmp_path / "line.png"), image)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "HANDREC_MODEL": str(shipped.EMNIST36)}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(PAGE), str(tmp_path / "line.png"), *GLUE],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()  # the glue, what predict read, the glue
    by_handrec, by_apps = json.loads(lines[0]), json.loads(lines[-1])
    assert by_handrec == []
    assert not set(by_apps) & {"hydra", "omegaconf", "mlflow"}
