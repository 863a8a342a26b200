"""Role inheritance: cycle detection (also for write-time refusal) and expansion of held roles."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping

from tessera.engine.errors import PolicyError
from tessera.engine.model import RoleDef

_ON_PATH, _DONE = 1, 2


def find_role_cycle(parents: Mapping[str, Iterable[str]]) -> tuple[str, ...] | None:
    """The first inheritance cycle found, as a path that ends where it starts (`("a", "b", "a")`).

    `parents` maps each role slug to its parents' slugs. Parents missing from the mapping are
    treated as roles without parents. Use it before saving a role's parents to refuse a cycle.
    """
    graph = {slug: tuple(ups) for slug, ups in parents.items()}
    state: dict[str, int] = {}
    for start in graph:
        if start in state:
            continue
        state[start] = _ON_PATH
        path = [start]
        stack = [iter(graph[start])]
        while stack:
            for parent in stack[-1]:
                seen = state.get(parent)
                if seen == _ON_PATH:
                    return (*path[path.index(parent) :], parent)
                if seen is None and parent in graph:
                    state[parent] = _ON_PATH
                    path.append(parent)
                    stack.append(iter(graph[parent]))
                    break
            else:
                state[path.pop()] = _DONE
                stack.pop()
    return None


def check_roles(roles: Mapping[str, RoleDef]) -> None:
    """Refuse mis-keyed roles, unknown parents and inheritance cycles."""
    for slug, role in roles.items():
        if role.slug != slug:
            raise PolicyError(f"role {role.slug!r} is filed under the key {slug!r}")
        for parent in role.parents:
            if parent not in roles:
                raise PolicyError(
                    f"role {slug!r} has an unknown parent {parent!r}", field="parents"
                )
    cycle = find_role_cycle({slug: role.parents for slug, role in roles.items()})
    if cycle is not None:
        raise PolicyError(f"role inheritance cycle: {' > '.join(cycle)}", field="parents")


def expand_role(
    slug: str, roles: Mapping[str, RoleDef]
) -> Iterator[tuple[tuple[str, ...], RoleDef]]:
    """The held role and its ancestors, breadth first, each once, with the path that reaches it."""
    seen = {slug}
    queue: deque[tuple[str, ...]] = deque([(slug,)])
    while queue:
        path = queue.popleft()
        role = roles[path[-1]]
        yield path, role
        for parent in role.parents:
            if parent not in seen:
                seen.add(parent)
                queue.append((*path, parent))
