"""Typed configuration: schema dataclasses, YAML loading and dotted overrides."""

from .loader import dump_yaml, from_dict, load_config, parse_override, to_dict
from .schema import (
    ORIGINAL_TEMPLATE,
    VIEW_TEMPLATE,
    Config,
    DataConfig,
    EvalConfig,
    LossConfig,
    ModelConfig,
    OptimConfig,
    TrainConfig,
)

__all__ = [
    "Config", "ModelConfig", "LossConfig", "DataConfig", "OptimConfig", "TrainConfig", "EvalConfig",
    "ORIGINAL_TEMPLATE", "VIEW_TEMPLATE", "load_config", "parse_override", "to_dict", "from_dict", "dump_yaml",
]
