"""Experiment configs: TOML files parsed with ``tomllib``, validated by pydantic.

Every section and key is documented in ``docs/user-guide.md``. Validation
errors become one-line :class:`ConfigError` messages that name the key, the
value and what is allowed.
"""

import math
import tomllib
from pathlib import Path
from typing import Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    ValidationError,
    field_validator,
    model_validator,
)

from pathgan.data import BANDWIDTH_RULES, BUILTIN_DATASETS


class ConfigError(ValueError):
    """An experiment config that cannot be run, with a one-line reason."""


class _Section(BaseModel):
    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, allow_inf_nan=False
    )


class DataConfig(_Section):
    """``[data]``: the target law."""

    source: str = "old_faithful"
    columns: list[str] | None = None
    standardize: bool = False
    bandwidth: Union[str, float] = "silverman"
    centers: list[float] | None = Field(None, min_length=1)
    widths: list[PositiveFloat] | None = Field(None, min_length=1)
    weights: list[PositiveFloat] | None = Field(None, min_length=1)

    @field_validator("bandwidth", mode="before")
    @classmethod
    def _check_bandwidth(cls, value):
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if (is_number and value > 0 and math.isfinite(value)) or (
            value in BANDWIDTH_RULES
        ):
            return float(value) if is_number else value
        raise ValueError(
            f"data.bandwidth = {value!r}: allowed are 'silverman', 'scott' or a "
            "positive finite number"
        )

    @model_validator(mode="after")
    def _check_source(self):
        if self.source == "two_modes":
            for key in ("columns",):
                if getattr(self, key) is not None:
                    raise ValueError(f"data.{key} is not used with source 'two_modes'")
            lengths = {
                key: len(getattr(self, key) or [0.0, 0.0])
                for key in ("centers", "widths", "weights")
            }
            if len(set(lengths.values())) != 1:
                raise ValueError(
                    "data.centers, data.widths and data.weights must have the same "
                    f"length; got lengths {lengths}"
                )
            return self
        for key in ("centers", "widths", "weights"):
            if getattr(self, key) is not None:
                raise ValueError(
                    f"data.{key} is only used with source 'two_modes' "
                    f"(source is {self.source!r})"
                )
        if self.source not in BUILTIN_DATASETS and not self.source.lower().endswith(
            ".csv"
        ):
            raise ValueError(
                f"data.source = {self.source!r}: allowed are 'two_modes', "
                f"{', '.join(repr(b) for b in BUILTIN_DATASETS)} "
                "or a path ending in .csv"
            )
        if self.source not in BUILTIN_DATASETS and self.columns is None:
            raise ValueError("data.columns is required for a CSV source")
        if self.columns is not None and len(self.columns) != 1:
            raise ValueError(
                f"data.columns = {self.columns}: the gaussian family is "
                "one-dimensional, "
                "so exactly one column is allowed"
            )
        return self

    @property
    def column_list(self):
        """The selected columns, with the built-in data sets' defaults."""
        if self.columns is not None:
            return self.columns
        return {"old_faithful": ["eruptions"], "penguins": ["flipper_length_mm"]}[
            self.source
        ]


class StartConfig(_Section):
    """A point of the gaussian chart."""

    mean: float = 0.0
    width: PositiveFloat = 1.0


class EndConfig(_Section):
    """An end point of the gaussian chart; unset coordinates keep the start."""

    mean: float | None = None
    width: PositiveFloat | None = None


class GeneratorConfig(_Section):
    """``[generator]``: the family, its start and which coordinates move."""

    family: Literal["gaussian"] = "gaussian"
    start: StartConfig = StartConfig()
    free: list[Literal["mean", "width"]] = ["mean", "width"]

    @field_validator("free")
    @classmethod
    def _unique(cls, value):
        if not value:
            raise ValueError(
                "at least one coordinate must be free; allowed: mean, width"
            )
        if len(set(value)) != len(value):
            raise ValueError(f"repeated coordinate in {value}")
        return value


class PotentialConfig(_Section):
    """``[potential]``: V, the functional training descends."""

    kind: Literal["gan", "seed_loss", "kl", "reverse_kl", "polynomial"] = "gan"
    coefficients: list[float] | None = None

    @model_validator(mode="after")
    def _check(self):
        if self.kind == "polynomial" and not self.coefficients:
            raise ValueError(
                "potential.coefficients is required when kind = 'polynomial'"
            )
        if self.kind != "polynomial" and self.coefficients is not None:
            raise ValueError(
                f"potential.coefficients is only used when kind = 'polynomial' "
                f"(kind is {self.kind!r})"
            )
        return self


class VelocityConfig(_Section):
    """A velocity in the gaussian chart; unset coordinates are at rest."""

    mean: float = 0.0
    width: float = 0.0


class PathConfig(_Section):
    """``[path]``: action, time lattice and end condition."""

    action: Literal["onsager_machlup", "underdamped", "euclidean"] = "onsager_machlup"
    slices: int = Field(64, ge=2, le=4096)
    duration: float = Field(4.0, gt=0.0, le=1e6)
    friction: float = Field(1.0, ge=1e-9, le=1e9)
    end: Literal["free", "fixed", "periodic"] = "free"
    end_state: EndConfig | None = None
    initial_velocity: VelocityConfig | None = None

    @model_validator(mode="after")
    def _check(self):
        if self.end == "fixed" and self.end_state is None:
            raise ValueError("path.end_state is required when path.end = 'fixed'")
        if self.end != "fixed" and self.end_state is not None:
            raise ValueError(
                f"path.end_state is only used when path.end = 'fixed' "
                f"(end is {self.end!r})"
            )
        if self.end == "periodic" and self.action != "euclidean":
            raise ValueError(
                f"path.end = 'periodic' needs path.action = 'euclidean' (got "
                f"{self.action!r}): a periodic path is a thermal trace, which a "
                "dissipative action does not define"
            )
        if self.initial_velocity is not None and self.action != "underdamped":
            raise ValueError(
                "path.initial_velocity is only used when path.action = "
                f"'underdamped' (action is {self.action!r})"
            )
        # The velocity update is explicit in the friction (see damped_flow).
        if (
            self.action == "underdamped"
            and self.friction * self.duration / (self.slices) >= 2.0
        ):
            raise ValueError(
                f"path.friction = {self.friction}: the underdamped lattice needs "
                f"friction * duration / slices < 2 (it is "
                f"{self.friction * self.duration / self.slices:.3g}); raise "
                "path.slices or lower the friction"
            )
        return self


class NoiseConfig(_Section):
    """``[noise]``: the noise scale eps."""

    scale: PositiveFloat = 0.05


class SamplerConfig(_Section):
    """``[sampler]``: how the ensemble is drawn."""

    method: Literal["nuts", "exact"] = "nuts"
    chains: int = Field(4, ge=1, le=64)
    warmup: int = Field(500, ge=0, le=100_000)
    draws: int = Field(1000, ge=1, le=1_000_000)
    parameterization: Literal["whitened", "plain"] = "whitened"
    chain_method: Literal["vectorized", "sequential", "parallel"] = "vectorized"
    target_accept: float = Field(0.8, gt=0.0, lt=1.0)
    max_tree_depth: int = Field(10, ge=1, le=15)
    init_jitter: float = Field(0.1, ge=0.0)


class ExperimentConfig(_Section):
    """A whole experiment."""

    name: str = "experiment"
    seed: int = Field(0, ge=0, lt=2**63)
    data: DataConfig = DataConfig()
    generator: GeneratorConfig = GeneratorConfig()
    potential: PotentialConfig = PotentialConfig()
    path: PathConfig = PathConfig()
    noise: NoiseConfig = NoiseConfig()
    sampler: SamplerConfig = SamplerConfig()

    @model_validator(mode="after")
    def _check(self):
        end = self.path.end_state
        if end is not None:
            for name in ("mean", "width"):
                value = getattr(end, name)
                start = getattr(self.generator.start, name)
                if (
                    name not in self.generator.free
                    and value is not None
                    and value != start
                ):
                    raise ValueError(
                        f"path.end_state.{name} = {value}: {name!r} is not free, so "
                        f"its end must equal its start ({start}) or be left out"
                    )
        velocity = self.path.initial_velocity
        if velocity is not None:
            for name in ("mean", "width"):
                value = getattr(velocity, name)
                if name not in self.generator.free and value != 0.0:
                    raise ValueError(
                        f"path.initial_velocity.{name} = {value}: {name!r} is not "
                        "free, so it cannot move"
                    )
        if self.path.end == "periodic":
            _check_periodic_potential(self)
        if self.sampler.method == "exact" and (
            self.path.action not in ("onsager_machlup", "underdamped")
            or self.path.end != "free"
        ):
            raise ValueError(
                "sampler.method = 'exact' needs path.action = 'onsager_machlup' or "
                "'underdamped' and path.end = 'free' (got "
                f"{self.path.action!r}, {self.path.end!r})"
            )
        return self


CONFINING_POTENTIALS = ("kl", "reverse_kl", "polynomial")


def _is_confining_polynomial(coefficients):
    """Whether sum c_n x^n grows to +inf in both directions."""
    nonzero = [n for n, c in enumerate(coefficients) if c != 0.0]
    if not nonzero:
        return False
    top = nonzero[-1]
    return top >= 2 and top % 2 == 0 and coefficients[top] > 0


def _check_periodic_potential(config):
    """A periodic path's mean has no kinetic cost: V alone must confine it."""
    kind = config.potential.kind
    if kind not in CONFINING_POTENTIALS:
        raise ValueError(
            f"potential.kind = {kind!r} with path.end = 'periodic': the mean of a "
            "periodic path costs no kinetic action, so the weight is "
            "normalizable only for a potential that grows without bound; "
            f"{kind!r} is bounded. Allowed with a periodic end: "
            f"{', '.join(repr(k) for k in CONFINING_POTENTIALS)} (a polynomial "
            "of even degree with a positive leading coefficient)"
        )
    coefficients = config.potential.coefficients
    if kind == "polynomial" and not _is_confining_polynomial(coefficients):
        raise ValueError(
            f"potential.coefficients = {coefficients} with path.end = "
            "'periodic': the mean of a periodic path costs no kinetic action, so "
            "the polynomial must grow without bound in both directions (even "
            "degree of at least 2, positive leading coefficient)"
        )


def _format_error(error):
    """One line from the first pydantic error: key, value, what is allowed."""
    first = error.errors()[0]
    loc = [p for p in first["loc"] if not str(p).startswith(("function-", "literal["))]
    key = "".join(_key_part(p) for p in loc).lstrip(".")
    loc = [str(p) for p in loc]
    kind = first["type"]
    message = first["msg"].removeprefix("Value error, ")
    if kind == "extra_forbidden":
        section = _section_model(loc[:-1])
        allowed = ", ".join(section.model_fields) if section else "?"
        return f"{key}: unknown key; allowed keys here: {allowed}"
    if kind == "missing":
        return f"{key}: required key is missing"
    if kind == "model_type":
        section = _section_model(loc)
        allowed = ", ".join(section.model_fields) if section else "?"
        return f"{key} = {first.get('input')!r}: must be a table with keys {allowed}"
    if kind == "value_error" and (not key or message.startswith(loc[0])):
        return message
    return f"{key} = {first.get('input')!r}: {message}"


def _key_part(part):
    """One step of a key path: ``[i]`` for an index, ``.name`` (quoted if odd)."""
    if isinstance(part, int):
        return f"[{part}]"
    text = str(part)
    return f".{text}" if text.isprintable() and text.strip() == text else f".{text!r}"


def _section_model(loc):
    model = ExperimentConfig
    for part in loc:
        field = model.model_fields.get(part)
        if field is None:
            return None
        annotation = field.annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        model = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)),
            None,
        )
        if model is None:
            return None
    return model


def parse_config(mapping):
    """Validate a config mapping; raise :class:`ConfigError` with one line."""
    try:
        return ExperimentConfig.model_validate(mapping)
    except ValidationError as error:
        raise ConfigError(_format_error(error)) from None


def load_config(path):
    """Read and validate a TOML experiment config."""
    path = Path(path)
    try:
        text = path.read_bytes()
    except OSError as error:
        raise ConfigError(
            f"cannot read config {str(path)!r}: {error.strerror}"
        ) from None
    try:
        mapping = tomllib.loads(text.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{str(path)!r} is not valid TOML: {error}") from None
    except RecursionError:
        message = f"{str(path)!r} is nested too deeply to be a config"
        raise ConfigError(message) from None
    return parse_config(mapping)
