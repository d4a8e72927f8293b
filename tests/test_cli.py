"""End-to-end command-line runs: outputs, atomic writes, clear failures."""

import json
import os
import subprocess
import sys

import arviz as az
import pytest

from pathgan.cli import main

TINY = """
name = "tiny"
seed = 3
[generator]
start = {{ mean = 1.0, width = 1.0 }}
free = ["mean"]
[potential]
kind = "polynomial"
coefficients = [0.0, 0.0, 0.5]
[path]
slices = 6
duration = 1.0
end = "{end}"
{end_state}
[noise]
scale = 0.1
[sampler]
chains = 2
warmup = 60
draws = 60
"""


def _config(tmp_path, end="fixed"):
    path = tmp_path / f"tiny_{end}.toml"
    end_state = "end_state = { mean = -1.0 }" if end == "fixed" else ""
    path.write_text(TINY.format(end=end, end_state=end_state))
    return path


def test_run_writes_the_result_folder(tmp_path, capsys):
    out = tmp_path / "result"
    assert main(["run", str(_config(tmp_path)), "--out", str(out), "-q"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["noise_scale"] == 0.1
    for key in (
        "rhat_max",
        "ess_bulk_min",
        "divergences",
        "gradient_evaluations",
        "seconds",
    ):
        assert key in summary["diagnostics"]
    assert "action_mean" in summary["observables"]
    assert summary["observables"]["hop_time"]["paths"] == 120
    idata = az.from_netcdf(str(out / "paths.nc"))
    assert idata.posterior["path"].shape == (2, 60, 7, 2)
    assert json.loads(idata.posterior.attrs["config"])["name"] == "tiny"
    names = sorted(p.name for p in (out / "figures").iterdir())
    assert names == ["density.png", "diagnostics.png", "hop_times.png", "path_fan.png"]
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]
    umask = os.umask(0)
    os.umask(umask)
    for folder in (out, out / "figures"):
        assert folder.stat().st_mode & 0o777 == 0o777 & ~umask

    # A second run needs --force and leaves the first result untouched.
    before = (out / "summary.json").read_bytes()
    assert main(["run", str(_config(tmp_path)), "--out", str(out), "-q"]) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert (out / "summary.json").read_bytes() == before

    # Redrawing the figures from the folder alone.
    assert main(["plot", str(out), "-q"]) == 0
    assert (out / "figures" / "path_fan.png").is_file()


def test_exact_method_from_the_command_line(tmp_path):
    config = _config(tmp_path, end="free")
    config.write_text(config.read_text() + 'method = "exact"\n')
    out = tmp_path / "exact"
    assert main(["run", str(config), "--out", str(out), "-q", "--force"]) == 0
    assert json.loads((out / "summary.json").read_text())["method"] == "exact"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[path]\nslices = 0\n", "path.slices = 0"),
        ('[noise]\nscale = "loud"\n', "noise.scale = 'loud'"),
        ("[sampler]\nthinning = 2\n", "sampler.thinning: unknown key"),
        ('[data]\nsource = "nowhere.csv"\ncolumns = ["x"]\n', "cannot read CSV file"),
        ('[data]\ncolumns = ["duration"]\n', "'duration' is not a column"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, text, expected):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    out = tmp_path / "never"
    result = subprocess.run(
        [sys.executable, "-m", "pathgan", "run", str(config), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def _refused(tmp_path, capsys, argv, expected):
    """Run the command; it must end with one error line before any sampling."""
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("pathgan: error:")
    assert expected in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_unusable_output_locations_are_refused_before_sampling(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    config = str(_config(tmp_path))
    (tmp_path / "afile").write_text("keep")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    cases = [
        (["--out", "afile/sub"], "cannot write a result folder at afile/sub"),
        (["--out", "dangling"], "is a broken symbolic link"),
        (["--out", "afile", "--force"], "exists and is not a folder"),
        (["--out", "mine", "--force"], "is not a pathgan result folder"),
        (["--out", ".", "--force"], "holds the working folder"),
    ]
    for extra, expected in cases:
        _refused(tmp_path, capsys, ["run", config, "-q", *extra], expected)
    assert (tmp_path / "afile").read_text() == "keep"
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run"], "run: the following arguments are required: config"),
        (["run", "a.toml", "extra"], "unrecognized arguments: extra"),
        (["plot"], "plot: the following arguments are required: folder"),
    ],
)
def test_bad_arguments_are_one_line(capsys, argv, expected):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0]


def test_plot_refuses_a_folder_that_is_not_a_result(tmp_path, capsys):
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "paths.nc").write_bytes(b"not a netCDF file")
    _refused(tmp_path, capsys, ["plot", str(corrupt)], "is not a readable pathgan")
    _refused(tmp_path, capsys, ["plot", str(tmp_path / "none")], "not found")


def test_summary_json_writes_non_finite_numbers_as_null(caplog):
    from pathgan.experiment import summary_json

    text = summary_json({"diagnostics": {"rhat_max": float("nan"), "divergences": 0}})
    assert json.loads(text) == {"diagnostics": {"rhat_max": None, "divergences": 0}}
    assert "diagnostics.rhat_max" in caplog.text


PERIODIC = """
name = "tiny-periodic"
seed = 1
[generator]
start = { mean = -1.0, width = 1.0 }
free = ["mean"]
[potential]
kind = "polynomial"
coefficients = [1.0, 0.0, -2.0, 0.0, 1.0]
[path]
action = "euclidean"
slices = 40
duration = 8.0
end = "periodic"
[noise]
scale = 0.5
[sampler]
chains = 2
warmup = 60
draws = 60
"""


def test_periodic_double_well_run_reports_the_instanton(tmp_path):
    config = tmp_path / "periodic.toml"
    config.write_text(PERIODIC)
    out = tmp_path / "periodic"
    assert main(["run", str(config), "--out", str(out), "-q"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["end"] == "periodic"
    instanton = summary["classical"]["instanton"]
    # V = (x^2 - 1)^2: continuum action 4 sqrt(2) / 3; dt = 0.2 is coarse.
    assert instanton["continuum_action"] == pytest.approx(4 * 2**0.5 / 3)
    assert abs(instanton["relative_difference"]) < 0.01
    assert instanton["wells"] == pytest.approx([-1.0, 1.0])
    idata = az.from_netcdf(str(out / "paths.nc"))
    path = idata.posterior["path"].sel(coordinate="mean").values
    assert (path[..., 0] == path[..., -1]).all()
    assert idata.constant_data.attrs["end"] == "periodic"
    tunnelling = summary["observables"]["tunnelling"]
    assert tunnelling["crossings_mean"] >= 0 and tunnelling["barrier"] == 0.0
    assert (out / "figures" / "path_fan.png").stat().st_size > 10_000
    assert (out / "figures" / "marginal.png").exists()
    (out / "figures" / "path_fan.png").unlink()
    assert main(["plot", str(out)]) == 0
    assert (out / "figures" / "path_fan.png").exists()
