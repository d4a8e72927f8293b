"""Config validation: every bad input is one line naming key, value, choices."""

import pytest

from pathgan.config import ConfigError, load_config, parse_config

BAD = [
    ({"path": {"slices": 1}}, "path.slices = 1"),
    ({"path": {"slices": "many"}}, "path.slices = 'many'"),
    ({"path": {"colour": 3}}, "path.colour: unknown key; allowed keys here: action"),
    ({"speed": 3}, "speed: unknown key"),
    ({"path": {"end": "circular"}}, "path.end = 'circular': Input should be 'free',"),
    (
        {"path": {"end": "periodic"}},
        "path.end = 'periodic' needs path.action = 'euclidean' (got 'onsager_machlup')",
    ),
    (
        {"path": {"end": "periodic", "action": "underdamped"}},
        "needs path.action = 'euclidean' (got 'underdamped')",
    ),
    (
        {"path": {"end": "periodic", "action": "euclidean", "end_state": {}}},
        "path.end_state is only used when path.end = 'fixed' (end is 'periodic')",
    ),
    (
        {"path": {"initial_velocity": {"mean": 1.0}}},
        "path.initial_velocity is only used when path.action = 'underdamped'",
    ),
    (
        {"path": {"action": "underdamped", "initial_velocity": {"speed": 1.0}}},
        "path.initial_velocity.speed: unknown key; allowed keys here: mean, width",
    ),
    (
        {"path": {"action": "underdamped", "friction": 40.0, "slices": 8}},
        "path.friction = 40.0: the underdamped lattice needs friction * duration",
    ),
    (
        {
            "generator": {"free": ["mean"]},
            "path": {"action": "underdamped", "initial_velocity": {"width": 0.5}},
        },
        "path.initial_velocity.width = 0.5: 'width' is not free",
    ),
    (
        {"sampler": {"method": "exact"}, "path": {"action": "euclidean"}},
        "sampler.method = 'exact' needs path.action = 'onsager_machlup' or",
    ),
    ({"potential": {"kind": "jsd"}}, "potential.kind = 'jsd': Input should be 'gan',"),
    (
        {"path": {"end": "periodic", "action": "euclidean"}},
        "potential.kind = 'gan' with path.end = 'periodic': the mean of a periodic",
    ),
    (
        {
            "path": {"end": "periodic", "action": "euclidean"},
            "potential": {"kind": "polynomial", "coefficients": [0.0, 0.0, -1.0]},
        },
        "the polynomial must grow without bound in both directions",
    ),
    (
        {
            "path": {"end": "periodic", "action": "euclidean"},
            "potential": {"kind": "polynomial", "coefficients": [0.0, 1.0]},
        },
        "the polynomial must grow without bound",
    ),
    (
        {"path": {"action": "underdamped", "initial_velocity": "fast"}},
        "path.initial_velocity = 'fast': must be a table with keys mean, width",
    ),
    ({"path": {"duration": 1e300}}, "path.duration = 1e+300: Input should be less"),
    ({"path": {"action": "lagrangian"}}, "path.action = 'lagrangian'"),
    ({"path": {"end": "fixed"}}, "path.end_state is required when path.end = 'fixed'"),
    ({"path": {"end_state": {"mean": 1.0}}}, "path.end_state is only used"),
    ({"noise": {"scale": 0.0}}, "noise.scale = 0.0: Input should be greater than 0"),
    ({"noise": {"scale": -1.0}}, "noise.scale = -1.0"),
    ({"noise": {"scale": float("inf")}}, "noise.scale = inf"),
    ({"generator": {"start": {"mean": float("nan")}}}, "generator.start.mean = nan"),
    ({"generator": {"start": {"mean": 0.0, "width": -0.2}}}, "generator.start.width"),
    ({"generator": {"free": ["mean", "skew"]}}, "generator.free[1] = 'skew'"),
    ({"generator": {"free": []}}, "at least one coordinate must be free"),
    ({"generator": {"family": "particles"}}, "generator.family = 'particles'"),
    ({"potential": {"kind": "polynomial"}}, "potential.coefficients is required"),
    ({"potential": {"coefficients": [1.0]}}, "potential.coefficients is only used"),
    ({"potential": {"kind": "wasserstein"}}, "potential.kind = 'wasserstein'"),
    ({"data": {"bandwidth": -0.1}}, "data.bandwidth = -0.1: allowed are 'silverman'"),
    ({"data": {"source": "faithful.txt"}}, "data.source = 'faithful.txt'"),
    ({"data": {"source": "x.csv"}}, "data.columns is required for a CSV source"),
    ({"data": {"columns": ["eruptions", "waiting"]}}, "exactly one column"),
    (
        {"data": {"source": "two_modes", "centers": [0.0], "widths": [1.0, 1.0]}},
        "must have the same length",
    ),
    ({"seed": 2**70}, "seed = 1180591620717411303424: Input should be less than"),
    ({"data": {"bandwidth": float("inf")}}, "data.bandwidth = inf: allowed are"),
    ({"data": {"source": "two_modes", "centers": []}}, "data.centers = []"),
    ({"bad\nkey": 1}, "'bad\\nkey': unknown key"),
    ({"sampler": {"chains": 0}}, "sampler.chains = 0"),
    ({"sampler": {"chains": True}}, "sampler.chains = True"),
    ({"sampler": {"target_accept": 1.5}}, "sampler.target_accept = 1.5"),
    (
        {
            "sampler": {"method": "exact"},
            "path": {"end": "fixed", "end_state": {"mean": 1.0}},
        },
        "sampler.method = 'exact' needs",
    ),
    (
        {
            "generator": {"free": ["mean"]},
            "path": {"end": "fixed", "end_state": {"mean": 1.0, "width": 2.0}},
        },
        "path.end_state.width = 2.0: 'width' is not free",
    ),
]


@pytest.mark.parametrize(("mapping", "expected"), BAD)
def test_bad_config_is_one_line_naming_the_key(mapping, expected):
    with pytest.raises(ConfigError) as info:
        parse_config(mapping)
    message = str(info.value)
    assert expected in message
    assert "\n" not in message


def test_defaults_are_a_valid_experiment():
    config = parse_config({})
    assert (
        config.path.action == "onsager_machlup" and config.data.source == "old_faithful"
    )


def test_unreadable_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[path\nslices = 3\n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_config(broken)


def test_deeply_nested_toml_is_a_config_error(tmp_path):
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_config(deep)


def test_shipped_experiments_are_valid():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "experiments"
    configs = sorted(folder.glob("*.toml"))
    assert configs
    for path in configs:
        load_config(path)


@pytest.mark.parametrize("kind", ["gan", "seed_loss", "kl", "reverse_kl"])
def test_every_data_potential_builds_a_problem(kind):
    import jax
    import numpy as np

    from pathgan.experiment import build_problem, build_target

    config = parse_config(
        {"data": {"source": "two_modes"}, "potential": {"kind": kind}}
    )
    problem = build_problem(config, build_target(config))
    value, grad = jax.value_and_grad(problem.potential_fn)(np.array([0.5, 1.0]))
    assert np.isfinite(value) and np.all(np.isfinite(grad))


def test_underdamped_config_carries_the_initial_velocity():
    from pathgan.experiment import build_problem, build_target

    config = parse_config(
        {
            "path": {"action": "underdamped", "initial_velocity": {"mean": 0.7}},
            "data": {"source": "two_modes"},
        }
    )
    problem = build_problem(config, build_target(config))
    assert list(problem.initial_velocity) == [0.7, 0.0]
    at_rest = parse_config({"path": {"action": "underdamped"}})
    assert list(build_problem(at_rest, build_target(at_rest)).initial_velocity) == [
        0.0,
        0.0,
    ]
