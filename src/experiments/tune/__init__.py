"""Hyperparameter search with Optuna (`python -m experiments.tune`, usage in search.py).

settings.py the search settings (conf/hparams_search/*.yaml), composed and checked first
space.py    the search space: a dimension per config key, checked before any trial runs
study.py    the study: storage, sampler, pruner, its MLflow parent run, the trial loop
workers.py  the processes that run trials at once, sharing the study through its storage
search.py   the command: check, then (only then loading Optuna, MLflow and TensorFlow) open or
            resume the study, run the workers, sum up
"""
