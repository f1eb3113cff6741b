"""Name -> network class registry, and the one builder every network goes through.

A weight file stores ``arch_name`` and ``arch_kwargs``; :func:`build_arch` turns them back into the
exact network. So ``build_arch`` resolves every constructor default into ``net.arch_kwargs``:
a file written today must rebuild the same network even if a default changes later.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any, TypeVar

from torch import nn

from engine.errors import ModelUnavailable

__all__ = ["UnknownArchitecture", "arch_class", "build_arch", "list_archs", "register_arch"]

ModuleT = TypeVar("ModuleT", bound=type[nn.Module])

_REGISTRY: dict[str, type[nn.Module]] = {}


class UnknownArchitecture(ModelUnavailable):
    """An architecture name is not registered, or its keyword arguments do not fit it."""


def _is_json_value(value: Any) -> bool:
    """True when ``value`` survives a JSON round trip unchanged (tuples, for one, do not)."""
    try:
        return json.loads(json.dumps(value)) == value
    except (TypeError, ValueError):
        return False


def register_arch(name: str) -> Callable[[ModuleT], ModuleT]:
    """Class decorator: register an ``nn.Module`` subclass under ``name``.

    The constructor must take named parameters only (no ``*args``/``**kwargs``), and every default
    must be JSON-serialisable: ``arch_kwargs`` has to be complete and storable in a weight file.
    """

    def decorator(cls: ModuleT) -> ModuleT:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"architecture {name!r} is already registered to {_REGISTRY[name]!r}")
        for param in inspect.signature(cls).parameters.values():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise TypeError(f"{cls.__name__}: *args/**kwargs would make arch_kwargs incomplete")
            if param.default is not param.empty and not _is_json_value(param.default):
                raise TypeError(
                    f"{cls.__name__}: default of {param.name!r} is not JSON-serialisable"
                )
        _REGISTRY[name] = cls
        return cls

    return decorator


def list_archs() -> list[str]:
    """The registered architecture names, sorted."""
    return sorted(_REGISTRY)


def arch_class(name: str) -> type[nn.Module]:
    """The class registered under ``name``; :class:`UnknownArchitecture` if there is none."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):  # TypeError: an unhashable "name" read from a corrupt file
        raise UnknownArchitecture(
            f"unknown architecture {name!r}; known architectures: {', '.join(list_archs())}"
        ) from None


def build_arch(name: str, **kwargs: Any) -> nn.Module:
    """Build the network registered under ``name`` with ``kwargs``.

    The returned module carries ``arch_name`` and ``arch_kwargs`` (every constructor argument,
    defaults included, JSON-serialisable) so that ``build_arch(net.arch_name, **net.arch_kwargs)``
    rebuilds the same network. Unknown names, unknown or ill-typed keyword arguments raise
    :class:`UnknownArchitecture`: to the caller they all mean "this weight file's model cannot be
    built".
    """
    cls = arch_class(name)
    signature = inspect.signature(cls)
    try:
        bound = signature.bind(**kwargs)
    except TypeError as exc:
        raise UnknownArchitecture(
            f"architecture {name!r} does not accept {sorted(kwargs)}: {exc}; "
            f"its parameters are {list(signature.parameters)}"
        ) from exc
    bound.apply_defaults()
    resolved = dict(bound.arguments)
    for key, value in resolved.items():
        if not _is_json_value(value):
            raise UnknownArchitecture(
                f"architecture {name!r}: argument {key}={value!r} is not JSON-serialisable"
            )
    try:
        net = cls(**resolved)
    except (TypeError, ValueError) as exc:
        # Constructors raise ValueError for out-of-range widths; TypeError for ill-typed ones.
        raise UnknownArchitecture(
            f"architecture {name!r} cannot be built with {resolved}: {exc}"
        ) from exc
    net.arch_name = name
    net.arch_kwargs = resolved
    return net
