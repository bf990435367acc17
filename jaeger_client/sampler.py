"""STUB: replaced by the samplers work. Interface only."""

from __future__ import annotations

from typing import Any

from .constants import SAMPLER_PARAM_TAG_KEY, SAMPLER_TYPE_CONST, SAMPLER_TYPE_TAG_KEY


class Sampler:
    def __init__(self, tags: Any = None) -> None:
        self._tags = tags

    def is_sampled(self, trace_id: int, operation: str = "") -> tuple[bool, Any]:
        raise NotImplementedError()

    def close(self) -> None:
        pass


class ConstSampler(Sampler):
    def __init__(self, decision: bool) -> None:
        super().__init__(tags={SAMPLER_TYPE_TAG_KEY: SAMPLER_TYPE_CONST, SAMPLER_PARAM_TAG_KEY: decision})
        self.decision = decision

    def is_sampled(self, trace_id: int, operation: str = "") -> tuple[bool, Any]:
        return self.decision, self._tags


class ProbabilisticSampler(Sampler):
    pass


class RateLimitingSampler(Sampler):
    pass


class RemoteControlledSampler(Sampler):
    pass
