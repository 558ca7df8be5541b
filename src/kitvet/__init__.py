"""kitvet: review every program and device an estate runs against sourced risk lists."""

__version__ = "0.1.0"
