"""Data targets: shipped data, CSV reading, bandwidth rules, KDE density."""

import numpy as np
import pytest
from scipy.stats import gaussian_kde

from pathgan import data


def test_old_faithful_is_shipped_and_standardized():
    samples, text = data.load_samples("old_faithful", ["eruptions"], True)
    assert samples.size == 272
    assert samples.mean() == pytest.approx(0.0, abs=1e-12)
    assert samples.std(ddof=1) == pytest.approx(1.0)
    assert "old_faithful" in text


def test_csv_rows_with_missing_values_are_dropped():
    samples, text = data.load_samples("penguins", ["flipper_length_mm"], False)
    assert samples.size == 342
    assert "2 with missing values dropped" in text


def test_bandwidth_rules_follow_their_formulas():
    samples, _ = data.load_samples("old_faithful", ["waiting"], False)
    n, sigma = samples.size, samples.std(ddof=1)
    iqr = np.subtract(*np.percentile(samples, [75, 25]))
    assert data.bandwidth(samples, "scott") == pytest.approx(1.06 * sigma * n**-0.2)
    assert data.bandwidth(samples, "silverman") == pytest.approx(
        0.9 * min(sigma, iqr / 1.34) * n**-0.2
    )
    assert data.bandwidth(samples, 0.25) == 0.25


def test_kernel_density_agrees_with_scipy():
    samples, _ = data.load_samples("old_faithful", ["eruptions"], True)
    target = data.kernel_density(samples, "silverman")
    h = target.widths[0]
    reference = gaussian_kde(samples, bw_method=h / samples.std(ddof=1))
    x = np.linspace(-3, 3, 101)
    np.testing.assert_allclose(
        np.exp(data.log_density(target, x)), reference(x), rtol=1e-10
    )


def test_missing_column_names_the_columns_there(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,2\n3,4\n5,6\n")
    with pytest.raises(data.DataError, match=r"'c' is not a column.*\['a', 'b'\]"):
        data.read_csv_columns(path, ["c"])


def test_non_numeric_cell_names_its_line(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a\n1\nx\n3\n")
    with pytest.raises(data.DataError, match="line 3"):
        data.read_csv_columns(path, ["a"])


def test_constant_column_is_refused(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a\n2.0\n2.0\n2.0\n")
    with pytest.raises(data.DataError, match="is constant"):
        data.load_samples(str(path), ["a"], True)


def test_nearly_constant_column_is_refused(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a\n1.0\n1.0000000000000002\n1.0\n")
    with pytest.raises(data.DataError, match="is constant"):
        data.load_samples(str(path), ["a"], False)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"a\n" + b"1\n" * 5000 + b"caf\xe9\n", "is not UTF-8 text"),
        (b"a\n" + b'"' + b"x" * 200_000 + b'"\n1\n2\n', "line 2: not a CSV row"),
    ],
)
def test_unreadable_csv_is_a_data_error(tmp_path, content, expected):
    path = tmp_path / "d.csv"
    path.write_bytes(content)
    with pytest.raises(data.DataError, match=expected):
        data.read_csv_columns(path, ["a"])


def test_byte_order_mark_is_not_part_of_the_first_column(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b"\xef\xbb\xbfa\n1\n2\n")
    values, dropped = data.read_csv_columns(path, ["a"])
    assert values[:, 0].tolist() == [1.0, 2.0] and dropped == 0


@pytest.mark.parametrize("scale", [1e300, 1e-300])
def test_extreme_magnitudes_are_standardized(tmp_path, scale):
    path = tmp_path / "extreme.csv"
    values = np.linspace(1.0, 1.7, 30) * scale
    path.write_text("x\n" + "\n".join(repr(float(v)) for v in values) + "\n")
    samples, _ = data.load_samples(str(path), ["x"], True)
    expected = (values / scale - (values / scale).mean()) / (values / scale).std(ddof=1)
    np.testing.assert_allclose(samples, expected, rtol=1e-12)
