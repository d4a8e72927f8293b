"""Data targets: the law :math:`P_{data}` the generator is trained towards.

Every one-dimensional target is a Gaussian mixture: an analytic mixture
(``two_modes``) has a few wide components, and an empirical data set gets a
Gaussian kernel density estimate, i.e. one component per observation with the
bandwidth as its width.
"""

import csv
import math
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp

BUILTIN_DATASETS = ("old_faithful", "penguins")
BANDWIDTH_RULES = ("silverman", "scott")


class DataError(ValueError):
    """A data source that cannot be read as asked (missing column, bad CSV)."""


class MixtureTarget(NamedTuple):
    r"""A one-dimensional Gaussian mixture :math:`\sum_i w_i N(c_i, s_i^2)`.

    Attributes
    ----------
    centers, widths, weights
        Component centres :math:`c_i`, standard deviations :math:`s_i > 0` and
        weights :math:`w_i` (summing to one).
    samples
        The observations behind a kernel density estimate, or ``None`` for an
        analytic mixture.
    description
        A short human-readable account of where the target came from.
    """

    centers: np.ndarray
    widths: np.ndarray
    weights: np.ndarray
    samples: np.ndarray | None
    description: str


def log_density(target, x):
    """Log density of a mixture target at points ``x`` (any shape).

    Computed with ``logsumexp`` so that it stays finite far in the tails.
    """
    x = jnp.asarray(x)[..., None]
    z = (x - target.centers) / target.widths
    log_components = (
        jnp.log(target.weights)
        - 0.5 * z**2
        - jnp.log(target.widths)
        - 0.5 * math.log(2 * math.pi)
    )
    return logsumexp(log_components, axis=-1)


def gaussian_mixture(centers, widths, weights, description="gaussian mixture"):
    """An analytic Gaussian mixture; weights are normalized to sum to one."""
    centers = np.asarray(centers, dtype=np.float64)
    widths = np.asarray(widths, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    weights = weights / weights.sum()
    return MixtureTarget(centers, widths, weights, None, description)


def bandwidth(samples, rule="silverman"):
    r"""Kernel bandwidth of a one-dimensional sample.

    Parameters
    ----------
    samples
        The observations.
    rule
        ``"silverman"`` gives Silverman's rule of thumb,
        :math:`h = 0.9 \min(\hat\sigma, \mathrm{IQR}/1.34)\, n^{-1/5}`;
        ``"scott"`` gives :math:`h = 1.06\, \hat\sigma\, n^{-1/5}`; a positive
        number is used as it is. :math:`\hat\sigma` is the sample standard
        deviation (``ddof=1``).

    References
    ----------
    B. W. Silverman, *Density Estimation for Statistics and Data Analysis*,
    Chapman and Hall, 1986, eq. (3.31). D. W. Scott, *Multivariate Density
    Estimation*, Wiley, 1992.
    """
    if not isinstance(rule, str):
        return float(rule)
    samples = np.asarray(samples, dtype=np.float64)
    n = samples.size
    sigma = scaled_std(samples)
    if rule == "scott":
        return 1.06 * sigma * n ** (-0.2)
    if rule == "silverman":
        q75, q25 = np.percentile(samples, [75, 25])
        spread = min(sigma, (q75 - q25) / 1.34) if q75 > q25 else sigma
        return 0.9 * spread * n ** (-0.2)
    raise ValueError(f"unknown bandwidth rule {rule!r}; allowed: {BANDWIDTH_RULES}")


def scaled_std(samples):
    """Sample standard deviation (``ddof=1``) computed on ``samples / max|x|``.

    The scaling keeps the squares from overflowing for values near 1e300 and
    from underflowing for values near 1e-300.
    """
    samples = np.asarray(samples, dtype=np.float64)
    magnitude = np.max(np.abs(samples))
    if not (np.isfinite(magnitude) and magnitude > 0):
        return 0.0 if magnitude == 0 else float("nan")
    return float((samples / magnitude).std(ddof=1) * magnitude)


def scaled_mean(samples):
    """Mean computed on ``samples / max|x|``, which cannot overflow."""
    samples = np.asarray(samples, dtype=np.float64)
    magnitude = np.max(np.abs(samples))
    if not (np.isfinite(magnitude) and magnitude > 0):
        return 0.0 if magnitude == 0 else float("nan")
    return float((samples / magnitude).mean() * magnitude)


def kernel_density(samples, rule="silverman", description="kernel density"):
    """The Gaussian kernel density estimate of ``samples`` as a mixture target."""
    samples = np.asarray(samples, dtype=np.float64).ravel()
    h = bandwidth(samples, rule)
    if not (np.isfinite(h) and h > 0):
        raise DataError(
            f"data.bandwidth = {rule!r} gives {h:.3g} for {description}: "
            "a positive finite bandwidth is needed (give a number instead)"
        )
    n = samples.size
    return MixtureTarget(
        samples.copy(), np.full(n, h), np.full(n, 1.0 / n), samples.copy(), description
    )


def read_csv_columns(path, columns):
    """Read numeric ``columns`` of a CSV file; rows with a missing value go.

    Returns the array of shape ``(rows, len(columns))`` and the number of rows
    dropped. A missing value is an empty cell or one of ``NA``, ``NaN``.
    """
    try:
        handle = open(path, newline="", encoding="utf-8-sig")
    except OSError as error:
        raise DataError(
            f"cannot read CSV file {str(path)!r}: {error.strerror}"
        ) from None
    with handle:
        reader = csv.reader(handle)
        try:
            return _read_rows(reader, path, columns)
        except UnicodeDecodeError:
            # Decoding fails per block read, so no reliable line number exists.
            raise DataError(
                f"{str(path)!r} is not UTF-8 text; save it as UTF-8"
            ) from None
        except csv.Error as error:
            raise DataError(
                f"{str(path)!r} line {reader.line_num}: not a CSV row ({error})"
            ) from None


def _read_rows(reader, path, columns):
    """The numeric ``columns`` of the rows of a CSV reader, and the rows dropped."""
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(f"CSV file {str(path)!r} is empty") from None
    missing = [c for c in columns if c not in header]
    if missing:
        named = [h for h in header if h]
        raise DataError(
            f"data.columns: {missing[0]!r} is not a column of {str(path)!r}; "
            f"its columns are {named}"
        )
    index = [header.index(c) for c in columns]
    rows, dropped = [], 0
    for row in reader:
        cells = [row[i].strip() if i < len(row) else "" for i in index]
        if any(c in ("", "NA", "NaN", "nan") for c in cells):
            dropped += 1
            continue
        try:
            rows.append([float(c) for c in cells])
        except ValueError:
            raise DataError(
                f"{str(path)!r} line {reader.line_num}: a non-numeric value in "
                f"columns {list(columns)}: {cells}"
            ) from None
    if len(rows) < 2:
        raise DataError(f"{str(path)!r} has fewer than two complete rows")
    return np.asarray(rows, dtype=np.float64), dropped


def builtin_path(name):
    """Path of a data set shipped with pathgan (``old_faithful``, ``penguins``)."""
    return resources.files("pathgan") / "datasets" / f"{name}.csv"


def load_samples(source, columns, standardize):
    """Observations of one column of a built-in data set or a CSV file.

    Returns the samples (standardized to mean 0 and sample standard deviation
    1 if asked) and a description.
    """
    if source in BUILTIN_DATASETS:
        path = builtin_path(source)
        label = source
    else:
        path = Path(source)
        label = str(path)
    values, dropped = read_csv_columns(path, columns)
    samples = values[:, 0]
    text = f"{label}[{columns[0]}], {samples.size} rows"
    if dropped:
        text += f" ({dropped} with missing values dropped)"
    if not np.all(np.isfinite(samples)):
        raise DataError(f"{label}[{columns[0]}] holds non-finite values")
    spread = scaled_std(samples)
    magnitude = np.abs(samples).max()
    # A spread below 1e-9 of the values' size is rounding, not data: the
    # kernel density of such a column is numerically a point.
    if not spread > 1e-9 * magnitude:
        raise DataError(
            f"{label}[{columns[0]}] is constant ({samples[0]}; spread {spread:.3g}): "
            "a kernel density needs data with a spread"
        )
    if standardize:
        samples = (samples - scaled_mean(samples)) / spread
        text += ", standardized"
    return samples, text
