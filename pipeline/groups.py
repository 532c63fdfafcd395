"""Items joined in pairs, gathered into the groups the joins make (union-find)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import TypeVar

T = TypeVar("T", bound=Hashable)


def connected_groups(items: Iterable[T], joins: Iterable[tuple[T, T]]) -> list[list[T]]:
    """The groups of `items` that `joins` link, directly or through others: each group in the items'
    order, the groups in the order of their first items.

    >>> connected_groups("abcde", [("a", "c"), ("e", "c")])
    [['a', 'c', 'e'], ['b'], ['d']]
    """
    members = list(items)
    parent = {item: item for item in members}

    def root(item: T) -> T:
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    for a, b in joins:
        parent[root(b)] = root(a)
    groups: dict[T, list[T]] = {}
    for item in members:
        groups.setdefault(root(item), []).append(item)
    return list(groups.values())
