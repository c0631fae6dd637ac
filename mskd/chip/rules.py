"""Design rules: small named predicates over a :class:`~mskd.chip.mapping.CoreMapping`.

Each rule yields a :class:`Violation` per core (or layer, or network) that breaks it;
:func:`check_rules` runs them all and :func:`raise_on_violation` turns the first into a
one-line :class:`DesignRuleError` naming the rule, the layer and the numbers.

>>> [name for name, _ in DESIGN_RULES]  # doctest: +NORMALIZE_WHITESPACE
['neurons_per_core', 'synapse_memory_per_core', 'synapses_per_core',
 'synapse_words_per_core', 'fan_in_axons', 'fan_out_axons', 'weight_bits', 'graded_spikes',
 'chips']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from mskd.errors import MskdError


class DesignRuleError(MskdError):
    """The network does not fit the hardware: the message names the rule and the numbers."""


@dataclass(frozen=True)
class Violation:
    """One broken rule: ``value`` exceeds ``limit`` at ``layer`` (and ``core``, if any)."""

    rule: str
    layer: int | None
    core: int | None
    value: int
    limit: int

    def message(self) -> str:
        where = "network" if self.layer is None else f"layer {self.layer}"
        if self.core is not None:
            where += f" core {self.core}"
        return f"design rule '{self.rule}' broken at {where}: {self.value} > limit {self.limit}"


def _per_core(rule: str, value: Callable, limit: Callable) -> Callable:
    def check(mapping) -> Iterator[Violation]:
        lim = limit(mapping.limits)
        if lim is None:
            return
        for lm in mapping.layers:
            for c in lm.cores:
                if value(c) > lim:
                    yield Violation(rule, lm.index, c.core, int(value(c)), int(lim))
    return check


def _weight_bits(mapping) -> Iterator[Violation]:
    for lm in mapping.layers:
        if lm.weight_bits > mapping.limits.weight_bits_max:
            yield Violation("weight_bits", lm.index, None, lm.weight_bits,
                            mapping.limits.weight_bits_max)


def _graded_spikes(mapping) -> Iterator[Violation]:
    """A layer that sends graded payloads needs a chip with graded spikes of that width."""
    from mskd.loihi.sdn import MESSAGE_BITS

    lim = mapping.limits.graded_spike_bits_max or 0
    for lm in mapping.layers:
        if lm.graded and MESSAGE_BITS > lim:
            yield Violation("graded_spikes", lm.index, None, MESSAGE_BITS, lim)


def _chips(mapping) -> Iterator[Violation]:
    if mapping.limits.max_chips is not None and mapping.chips > mapping.limits.max_chips:
        yield Violation("chips", None, None, mapping.chips, mapping.limits.max_chips)


DESIGN_RULES: tuple[tuple[str, Callable[..., Iterator[Violation]]], ...] = (
    ("neurons_per_core", _per_core("neurons_per_core", lambda c: c.neurons,
                                   lambda lim: lim.neurons)),
    ("synapse_memory_per_core", _per_core("synapse_memory_per_core", lambda c: c.synapse_bits,
                                          lambda lim: lim.synapse_memory_bits)),
    ("synapses_per_core", _per_core("synapses_per_core", lambda c: c.synapses,
                                    lambda lim: lim.synapses)),
    ("synapse_words_per_core", _per_core("synapse_words_per_core", lambda c: c.words or 0,
                                         lambda lim: lim.synapse_words)),
    ("fan_in_axons", _per_core("fan_in_axons", lambda c: c.fan_in_axons,
                               lambda lim: lim.fan_in_axons)),
    ("fan_out_axons", _per_core("fan_out_axons", lambda c: c.fan_out_axons,
                                lambda lim: lim.fan_out_axons)),
    ("weight_bits", _weight_bits),
    ("graded_spikes", _graded_spikes),
    ("chips", _chips),
)


def check_rules(mapping) -> list[Violation]:
    """Every violation of every rule, in rule order."""
    return [v for _, rule in DESIGN_RULES for v in rule(mapping)]


# The profile figure behind each rule's limit, to say when a failure rests on an assumption.
RULE_LIMIT_KEYS = {
    "neurons_per_core": "limits.neurons_per_core",
    "synapse_memory_per_core": "limits.synapse_memory_per_core",
    "synapses_per_core": "limits.synapses_per_core",
    "synapse_words_per_core": "limits.synapse_words_per_core",
    "fan_in_axons": "limits.fan_in_axons_per_core",
    "fan_out_axons": "limits.fan_out_axons_per_core",
    "weight_bits": "limits.weight_bits_max",
    "graded_spikes": "limits.graded_spike_bits_max",
}


def raise_on_violation(mapping) -> None:
    """Raise :class:`DesignRuleError` for the first violation (and say how many more)."""
    found = check_rules(mapping)
    if found:
        first = found[0]
        more = f" (and {len(found) - 1} more violation(s))" if len(found) > 1 else ""
        key = RULE_LIMIT_KEYS.get(first.rule)
        note = (f"; this limit is an assumed figure ({key}), see the profile"
                if key in mapping.limits.assumed else "")
        if first.rule == "graded_spikes" and not first.limit:
            note = "; this chip has no graded spikes (a sigma-delta network needs e.g. loihi2)"
        raise DesignRuleError(f"{mapping.profile}: {first.message()}{more}{note}")
