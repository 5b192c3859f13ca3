"""Quick constructors for the frozen, slotted dataclasses a listing makes 100,000s of.

A frozen dataclass's `__init__` sets each field through `object.__setattr__`, looked up again
for every field of every instance: about 0.5 µs for a `Fingerprint`, 0.9 µs for a `SourceItem`,
a tenth of a re-run of 100,000 files for the objects that run makes. `maker(cls, names)` gives a
function taking every field positionally that fills the slots directly; the instance is the same
(equal, hashed, frozen, printed alike). Should the class's fields ever differ from `names` (a
field added), the class itself is returned, so a forgotten field never goes unset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")


def maker(cls: type[T], names: tuple[str, ...]) -> Callable[..., T]:
    if tuple(f.name for f in fields(cls)) != names or not hasattr(cls, "__slots__") or getattr(
            cls, "__post_init__", None) is not None:
        return cls
    setters = [getattr(cls, name).__set__ for name in names]  # the slots' member descriptors
    new = object.__new__
    scope: dict[str, Any] = {"new": new, "cls": cls,
                             **{f"set{i}": s for i, s in enumerate(setters)}}
    arguments = ", ".join(names)
    body = "".join(f"    set{i}(made, {name})\n" for i, name in enumerate(names))
    # Generated, as dataclasses does, so the call costs no loop and no lookup per field.
    exec(f"def make({arguments}):\n    made = new(cls)\n{body}    return made\n", scope)
    make: Callable[..., T] = scope["make"]
    return make
