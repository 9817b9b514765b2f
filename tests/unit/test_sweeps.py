"""Every shipped sweep YAML parses and its search space fits its experiment's config (full and smoke)."""

import pytest

from raylab.registry import configs_dir, get_spec
from raylab.runner import load_run_config
from raylab.runtime.tune import check_space, load_sweep

SWEEPS = {
    "mri_gs/sweeps/gaussians.yaml": "mri_gs/mni152_x2",
    "specgd/sweeps/lr.yaml": "specgd/trajectory",
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
