"""Mapping tables kept as YAML beside the adapter that uses them, validated when it is built.

Each adapter keeps its source's code tables (sex codes, country aliases, marking equivalences)
as data, as zavod's dataset YAML does, and describes their shape with a pydantic model that
forbids unknown keys. Loading through this one function means a typo in any table stops the
adapter at start-up with the file's name, instead of surfacing as odd notices much later.
"""

from __future__ import annotations

from importlib import resources
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def load_mapping(package: str, filename: str, model: type[M]) -> M:
    """Read ``filename`` from ``package`` (so it also works from an installed wheel) as ``model``.

    Raises ValueError naming the file when the YAML does not parse or does not fit the model.
    """
    where = f"{package}/{filename}"
    text = resources.files(package).joinpath(filename).read_text(encoding="utf-8")
    try:
        return model.model_validate(yaml.safe_load(text))
    except (yaml.YAMLError, ValidationError) as err:
        raise ValueError(f"invalid mapping file {where}: {err}") from err
