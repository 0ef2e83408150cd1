from dataclasses import dataclass, field

import pytest

from moalign.core.config import ConfigError, build_config


@dataclass(frozen=True)
class Inner:
    lr: float = 1e-3


@dataclass(frozen=True)
class Outer:
    name: str
    steps: int = 10
    inner: Inner = field(default_factory=Inner)
    layers: tuple[int, ...] = (64,)

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError("steps must be >= 1")


def test_builds_nested_and_widens():
    c = build_config(Outer, {"name": "a", "inner": {"lr": 1}, "layers": [8, 8]})
    assert c.inner.lr == 1.0 and isinstance(c.inner.lr, float) and c.layers == (8, 8)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"name": "a", "inner": {"lrr": 1}}, r"^cfg\.inner\.lrr: unknown key"),
        ({"name": "a", "steps": "ten"}, r"cfg\.steps: expected an integer"),
        ({"name": "a", "steps": True}, r"cfg\.steps: expected an integer"),
        ({"steps": 3}, r"cfg\.name: required key is missing"),
        ({"name": "a", "steps": 0}, r"^cfg\.steps: must be >= 1"),
    ],
)
def test_errors_name_the_path(values, message):
    with pytest.raises(ConfigError, match=message):
        build_config(Outer, values, path="cfg")
