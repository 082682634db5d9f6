"""Hyperparameter search with Optuna: TPE over a search space, pruning, a resumable study.

python -m experiments.tune                                            # hparams_search=optuna
python -m experiments.tune hparams_search.n_trials=50 model.dense_units=128 train.epochs=10
python -m experiments.tune hparams_search.space={model.dropout:null}  # one dimension less
python -m experiments.tune ++hparams_search.space={model.dense_units:{type:int,low:64,high:512}}

The search settings and space come from conf/hparams_search/<name>.yaml, overridden as
`hparams_search.<key>=...`; every other override applies to each trial's config. A trial is
one run, a child of the study's parent run, of that config plus the trial's sampled values;
the objective is its best validation accuracy. A trial that the pruner stops early ends
FINISHED all the same (trained for fewer epochs, evaluated) with the tag `optuna.pruned=true`.
The study lives in `hparams_search.storage`: run the same command again and an interrupted
search goes on until the study has `n_trials` complete or pruned trials.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from hydra.core.override_parser.overrides_parser import OverridesParser

from experiments import cli, schema
from experiments.schema import compose_config
from experiments.tune.settings import DEFAULT_PRESET, SearchError, SearchSpec, compose_search
from experiments.tune.space import GROUP, as_override, check_space

if TYPE_CHECKING:
    import optuna


def main(argv: Sequence[str] | None = None) -> None:
    parser = cli.parser("experiments.tune", __doc__)
    parser.add_argument("overrides", nargs="*", help="hparams_search.* and config overrides")
    args = parser.parse_args(argv)
    preset, search_overrides, overrides = split_overrides(args.overrides)
    try:
        study = tune(compose_search(preset, search_overrides), overrides)
    except (KeyboardInterrupt, cli.Interrupted) as stop:
        cut = cli.interruption(stop)
        where = cut.message.split(":")[0]  # "interrupted after epoch 2 of 5"
        again = f"{where}: run the same command again to continue the study"
        raise cli.interruption(cut, again) from None
    print(summary(study))


def tune(search: SearchSpec, overrides: Sequence[str]) -> optuna.Study:
    """Checks the space, then runs trials under the study's parent run."""
    base = compose_config(overrides)
    check_space(search.space, base, overrides)
    tracking = schema.settings(base).tracking
    from optuna.trial import TrialState  # here, the search checked: Optuna, MLflow, TensorFlow

    from experiments.lifecycle import ending_parent
    from experiments.tracking import connect
    from experiments.tune.study import open_study, study_parent
    from experiments.tune.workers import run_workers

    experiment_id = connect(tracking)
    study = open_study(search, overrides)
    parent = study_parent(study, experiment_id, overrides)
    with ending_parent(parent, experiment_id) as end:
        budgets = run_workers(search, overrides, parent.run_id)
        complete = study.get_trials(states=(TrialState.COMPLETE,))
        exceeded = any(budget.exceeded for budget in budgets)
        end.status = "FAILED" if exceeded or not complete else "FINISHED"
    if exceeded:
        raise SearchError(
            f"stopped after {sum(b.count for b in budgets)} failed trials ({GROUP}.max_failures="
            f"{search.max_failures}): see the error tags of the FAILED runs"
        )
    return study


def split_overrides(args: Sequence[str]) -> tuple[str, list[str], list[str]]:
    """One command line → (search preset, its overrides, every trial's config overrides)."""
    preset, search, config = DEFAULT_PRESET, [], []
    for override, line in zip(OverridesParser.create().parse_overrides(args), args, strict=True):
        key = override.key_or_group
        if key == GROUP:
            preset = str(override.value())
        elif key.startswith(f"{GROUP}."):
            search.append(line)
        else:
            config.append(line)
    return preset, search, config


def summary(study: optuna.Study) -> str:
    from optuna.trial import TrialState

    counts = {state.name.lower(): len(study.get_trials(states=(state,))) for state in TrialState}
    done = ", ".join(f"{n} {state}" for state, n in counts.items() if n)
    lines = [f"study {study.study_name}: {len(study.trials)} trials ({done})"]
    if counts["complete"]:
        best = study.best_trial
        params = " ".join(as_override(k, v) for k, v in best.params.items())
        lines += [f"best val accuracy {best.value:.4f} (trial {best.number}): {params}"]
    parent = study.user_attrs.get("mlflow_parent_run_id")
    lines += [f"compare the trials: python -m experiments.compare --sweep {parent}"]
    return "\n".join(lines)
