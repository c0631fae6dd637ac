"""Read a NIR graph as the feed-forward chain Loihi's netx path can run, or refuse it.

:func:`chain` follows the edges from the ``Input`` node to the ``Output`` node and returns
the nodes in order. It raises :class:`~mskd.errors.NetError` naming the node when:

* a node has more than one successor or predecessor (branches, skip connections), or an
  edge leads back to a visited node: netx networks are chains. The one loop taken is a
  recurrent synapse on a spiking layer (``lif -> Affine/Linear -> lif``, as snnTorch 1.0
  writes RLeaky/RSynaptic), folded into its neuron (:func:`fold_recurrent`) and deployed
  as netx ``dense_rec``;
* a node type is not in :data:`SUPPORTED` (refused types and why are listed in
  :mod:`mskd.convert.nir.importer`);
* a node is ``None``. norse 1.1's ``to_nir`` writes ``torch.nn.Flatten`` as a ``None``
  node; such a node is read as a flatten only when it sits between a ``(C, H, W)`` output
  and an ``Affine``/``Linear`` whose input size is ``C*H*W`` (:func:`resolve_none`).

>>> import nir, numpy as np
>>> g = nir.NIRGraph(nodes={"input": nir.Input(np.array([3])),
...     "fc": nir.Linear(np.ones((2, 3))), "out": nir.Output(np.array([2]))},
...     edges=[("input", "fc"), ("fc", "out")])
>>> [name for name, _ in chain(g)]
['fc']
>>> g.edges.append(("fc", "fc"))
>>> chain(g)
Traceback (most recent call last):
...
mskd.errors.NetError: NIR node 'fc': recurrent edge fc -> fc (Loihi netx networks are feed-forward)
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import NamedTuple

import numpy as np

from mskd.errors import NetError

SUPPORTED = ("Affine", "Linear", "Conv2d", "Conv1d", "Flatten", "SumPool2d", "AvgPool2d", "Scale",
             "Delay",
             "CubaLIF", "LIF", "IF", "LI", "CubaLI")
WHAT_TO_DO = {  # the user's way out, per refused node type
    "": "export the network without it",
}


def _succ_pred(graph) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    succ: dict[str, list[str]] = {k: [] for k in graph.nodes}
    pred: dict[str, list[str]] = {k: [] for k in graph.nodes}
    for a, b in graph.edges:
        for n in (a, b):
            if n not in graph.nodes:
                raise NetError(f"NIR edge {a} -> {b}: node '{n}' does not exist")
        succ[a].append(b)
        pred[b].append(a)
    return succ, pred


def _check_acyclic(succ, pred) -> None:
    """Depth-first search; an edge back to a node on the current path is recurrent."""
    state: dict[str, int] = {}  # 1 = on the path, 2 = done

    def visit(a: str) -> None:
        state[a] = 1
        for b in succ[a]:
            if state.get(b) == 1:
                raise NetError(f"NIR node '{b}': recurrent edge {a} -> {b} (Loihi netx "
                               "networks are feed-forward)")
            if b not in state:
                visit(b)
        state[a] = 2

    for k in succ:
        if k not in state:
            visit(k)


def _input_name(graph) -> str:
    import nir

    names = [k for k, n in graph.nodes.items() if isinstance(n, nir.Input)]
    if len(names) != 1:
        raise NetError(f"NIR graph: needs exactly one Input node, found {len(names)}")
    return names[0]


def _next(name: str, succ, pred, seen: set[str]) -> str | None:
    nxt = succ[name]
    for b in nxt:
        if b in seen:
            raise NetError(f"NIR node '{b}': recurrent edge {name} -> {b} (Loihi netx "
                           "networks are feed-forward)")
    if len(nxt) > 1:
        raise NetError(f"NIR node '{name}': {len(nxt)} outgoing edges (branches are not "
                       "supported; netx networks are chains)")
    if not nxt:
        return None
    b = nxt[0]
    if len(pred[b]) > 1:
        raise NetError(f"NIR node '{b}': {len(pred[b])} incoming edges (merges and recurrent "
                       "connections are not supported)")
    return b


NEURONS = ("CubaLIF", "LIF", "IF")


class Recurrent(NamedTuple):
    """A spiking neuron node with a recurrent synapse from its own spikes back to itself
    (snnTorch's RLeaky/RSynaptic: ``lif -> w_rec -> lif``): netx ``dense_rec``."""

    neuron: object
    rec_name: str
    rec: object


def fold_recurrent(graph):
    """The graph with each recurrent synapse (an ``Affine``/``Linear`` whose only input and
    only output is one spiking neuron node) taken out of the walk and attached to its
    neuron as a :class:`Recurrent`; other cycles are left for :func:`chain` to refuse."""
    succ, pred = _succ_pred(graph)
    nodes, drop = dict(graph.nodes), set()
    for name, node in graph.nodes.items():
        if type(node).__name__ not in ("Affine", "Linear") or len(pred[name]) != 1 or \
                succ[name] != pred[name]:
            continue
        owner = pred[name][0]
        if type(graph.nodes[owner]).__name__ not in NEURONS or \
                isinstance(nodes[owner], Recurrent):
            continue
        nodes[owner] = Recurrent(graph.nodes[owner], name, node)
        drop.add(name)
    if not drop:
        return graph
    del_nodes = {k: v for k, v in nodes.items() if k not in drop}
    edges = [(a, b) for a, b in graph.edges if a not in drop and b not in drop]
    return SimpleNamespace(nodes=del_nodes, edges=edges)


def chain(graph) -> list[tuple[str, object]]:
    """Nodes between Input and Output, in order (see the module docstring); a neuron with a
    recurrent synapse comes as a :class:`Recurrent`."""
    import nir

    graph = fold_recurrent(graph)
    succ, pred = _succ_pred(graph)
    _check_acyclic(succ, pred)
    name, seen, out = _input_name(graph), set(), []
    seen.add(name)
    while (name := _next(name, succ, pred, seen)) is not None:
        seen.add(name)
        node = graph.nodes[name]
        if isinstance(node, nir.Output):
            break
        if isinstance(node, nir.NIRGraph):
            raise NetError(f"NIR node '{name}': nested graphs are not supported: flatten the "
                           "subgraph into the graph (a recurrent synapse lif -> Linear -> lif "
                           "is converted)")
        if node is not None and not isinstance(node, Recurrent) and \
                type(node).__name__ not in SUPPORTED:
            kind = type(node).__name__
            raise NetError(f"NIR node '{name}': type {kind} cannot run on Loihi via netx "
                           f"(supported: {', '.join(SUPPORTED)}): "
                           f"{WHAT_TO_DO.get(kind, WHAT_TO_DO[''])}")
        out.append((name, node))
    else:
        raise NetError("NIR graph: no path from the Input node to an Output node")
    return out


def resolve_none(nodes: list[tuple[str, object]], index: int, in_shape) -> object:
    """A ``None`` node (norse 1.1's Flatten) as ``nir.Flatten``, if shapes say so."""
    import nir

    name = nodes[index][0]
    nxt = nodes[index + 1][1] if index + 1 < len(nodes) else None
    n_in = None if nxt is None or not hasattr(nxt, "weight") or \
        type(nxt).__name__ == "Conv2d" else np.asarray(nxt.weight).shape[-1]
    if len(in_shape) == 3 and n_in == int(np.prod(in_shape)):
        return nir.Flatten(input_type={"input": np.array(in_shape)})
    raise NetError(f"NIR node '{name}': empty (None) node that is not a flatten between a "
                   f"(C, H, W) map and a dense layer (input shape {tuple(in_shape)}); norse "
                   "1.1 writes modules it cannot export (BatchNorm, LIFRecurrentCell, ...) "
                   "so: fold batch norm into the weights and export without recurrent cells")
