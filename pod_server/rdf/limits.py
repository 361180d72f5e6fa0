"""Parse limits, so a hostile body cannot exhaust memory or time."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RdfLimits:
    """Exceeding ``max_bytes`` is a 413; exceeding the others is a 400 naming the limit."""

    max_bytes: int = 8 * 1024 * 1024
    max_triples: int = 500_000
    max_literal_bytes: int = 1024 * 1024
    max_jsonld_depth: int = 64


__all__ = ["RdfLimits"]
