"""Compute-graph pictures: trace(root) -> (nodes, edges), to_dot(root) -> DOT text, and
draw_graph(root) -> graphviz.Digraph showing ops, shapes, values, gradients and deltas."""

from .render import INSTALL_HELP, Graph, GraphvizNotFound, draw_graph, to_dot
from .trace import Edge, Node, Trace, trace

__all__ = [
    "INSTALL_HELP", "Edge", "Graph", "GraphvizNotFound", "Node", "Trace", "draw_graph",
    "to_dot", "trace",
]
