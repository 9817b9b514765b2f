"""Every shipped sweep YAML parses and its search space fits its experiment's config (full and smoke);
the `search` key (random or optuna) is read and checked."""

import sys

import pytest
from ray.tune.search import BasicVariantGenerator, ConcurrencyLimiter

from raylab.config import ConfigError
from raylab.registry import configs_dir, get_spec
from raylab.runner import load_run_config
from raylab.runtime.tune import SweepSpec, check_space, load_sweep, param_space, search_algorithm

SWEEPS = {
    "mri_gs/sweeps/gaussians.yaml": "mri_gs/mni152_x2",
    "specgd/sweeps/lr.yaml": "specgd/trajectory",
    "specgd/sweeps/lr_optuna.yaml": "specgd/trajectory",
    "label_noise/sweeps/phases.yaml": "label_noise/single",
    "label_noise/sweeps/sensitivity.yaml": "label_noise/single",
    "faa/sweeps/system.yaml": "faa/secrecy_vs_power",
    "tsp_mdf/sweeps/sampling.yaml": "tsp_mdf/tsp500",
    "par/sweeps/seeds_alpha_par.yaml": "par/pendulum_medium",
    "par/sweeps/par_knobs.yaml": "par/pendulum_medium",
    "par/sweeps/released_gate.yaml": "par/pendulum_medium",
    "par/sweeps/easy_data.yaml": "par/pendulum_expert",
    "otcfm/sweeps/rates.yaml": "otcfm/minibatch_convergence",
    "s2o/sweeps/variants.yaml": "s2o/cifar10_at",  # and s2o/mnist_at: tests/ray/test_s2o_sweep.py
    "s2o/sweeps/sam_rho.yaml": "s2o/mnist_at",
    "abaw/sweeps/robustness.yaml": "abaw/pipeline",
}


def test_every_sweep_file_is_listed():
    assert {str(p.relative_to(configs_dir())) for p in configs_dir().glob("*/sweeps/*.yaml")} == set(SWEEPS)


@pytest.mark.parametrize("sweep, experiment", SWEEPS.items())
@pytest.mark.parametrize("smoke", [False, True])
def test_sweep_space_fits_the_config(sweep, experiment, smoke):
    spec = get_spec(experiment)
    check_space(load_sweep(configs_dir() / sweep, smoke=smoke), load_run_config(spec, smoke=smoke))


def test_a_failed_trial_is_summarised_by_its_exception_line():
    from raylab.runtime.tune_summary import error_line

    ray_error = RuntimeError(
        "\x1b[36mray::ImplicitFunc.train()\x1b[39m (pid=7, ip=127.0.0.1)\n"
        "Traceback (most recent call last):\n"
        "  File \"x.py\", line 1, in f\nraylab.config.ConfigError: sweep metric 'a/b' is not a metric\n\n"
    )
    assert error_line(ray_error) == "raylab.config.ConfigError: sweep metric 'a/b' is not a metric"
    assert error_line(ValueError("")) == "ValueError"


def _sweep(tmp_path, text):
    path = tmp_path / "sweep.yaml"
    path.write_text("metric: train/error\n" + text)
    return load_sweep(path)


def test_search_defaults_to_random_over_the_space_grid_included(tmp_path):
    sweep = _sweep(tmp_path, "space: {lams: {grid: [[5], [20]]}}\nmax_concurrent_trials: 2\n")
    assert sweep.search == "random" and sweep.seed is None
    searcher = search_algorithm(sweep)
    assert isinstance(searcher, BasicVariantGenerator) and searcher.max_concurrent == 2


def test_search_optuna_is_read_with_its_seed_and_concurrency_limit(tmp_path):
    pytest.importorskip("optuna")
    from ray.tune.search.optuna import OptunaSearch

    sweep = _sweep(
        tmp_path,
        "search: optuna\nseed: 3\nmax_concurrent_trials: 2\nspace: {lr.specgd: {loguniform: [0.001, 0.3]}}\n",
    )
    assert (sweep.search, sweep.seed) == ("optuna", 3)
    limited = search_algorithm(sweep)
    assert isinstance(limited, ConcurrencyLimiter) and limited.max_concurrent == 2
    assert isinstance(limited.searcher, OptunaSearch)
    assert isinstance(search_algorithm(SweepSpec("m", search="optuna", space=sweep.space)), OptunaSearch)


def test_a_seeded_optuna_search_suggests_the_same_values_inside_the_space():
    pytest.importorskip("optuna")
    sweep = SweepSpec("m", search="optuna", seed=7, space={"lr.specgd": {"loguniform": [0.001, 0.3]}})
    runs = []
    for _ in range(2):
        searcher = search_algorithm(sweep)
        assert searcher.set_search_properties("m", "min", param_space(sweep))
        runs.append([searcher.suggest(str(i))["lr.specgd"] for i in range(4)])
    assert runs[0] == runs[1] and all(0.001 <= lr <= 0.3 for lr in runs[0])


def test_optuna_refuses_a_grid_axis_by_name(tmp_path):
    space = "space: {lr.specgd: {uniform: [0.01, 0.1]}, lams: {grid: [[5], [20]]}}\n"
    with pytest.raises(ConfigError, match=r"search: optuna cannot take grid axes: space\.lams"):
        _sweep(tmp_path, "search: optuna\n" + space)


def test_an_unknown_search_names_the_allowed_ones(tmp_path):
    with pytest.raises(ConfigError, match=r"search must be one of random, optuna, not 'hyperopt'"):
        _sweep(tmp_path, "search: hyperopt\n")


def test_search_optuna_without_optuna_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)  # `import optuna` fails, as when not installed
    with pytest.raises(ConfigError, match=r"needs the optional package optuna: pip install 'raylab\[tune\]'"):
        _sweep(tmp_path, "search: optuna\nspace: {lr.specgd: {uniform: [0.01, 0.1]}}\n")
