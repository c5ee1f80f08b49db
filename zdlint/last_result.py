"""A computation's result kept for the last inputs it was asked about.

Every file of a run asks the same questions with the same objects (the run's settings,
catalogue, active rules); answering once per run is enough. Inputs are compared by
identity, and held, so their ids cannot be reused by other objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class LastResult(Generic[T]):
    """`get(inputs, compute)`: compute()'s result, computed again only for new inputs."""

    def __init__(self) -> None:
        self._inputs: tuple[object, ...] | None = None
        self._result: T | None = None

    def get(self, inputs: tuple[object, ...], compute: Callable[[], T]) -> T:
        known = self._inputs
        if (
            known is None
            or len(known) != len(inputs)
            or any(a is not b for a, b in zip(known, inputs, strict=True))
        ):
            self._result, self._inputs = compute(), inputs
        return self._result  # type: ignore[return-value]
