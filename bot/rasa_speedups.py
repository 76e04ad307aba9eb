"""Speed-ups for the Rasa server, applied when it loads our REST channel.

Rasa 3.6 validates every action server reply with `jsonschema.validate`, which
first re-checks the (constant) schema against the JSON-Schema meta-schema and
builds a new validator: about a quarter of the server's CPU time under load
(measured with py-spy during `make bench`). We validate against the same schema
with a validator built once; invalid replies raise the same ValidationError.

Loading the model took about half of Rasa's start (7 of 13 s of CPU), so half of the time a
crashed Rasa stays away (bot/supervisor.py): skops, which reads the NLU classifier, names ~760
numpy and scipy ufuncs when first imported, and for each one tries every loaded module (~4,000
once TensorFlow is in) with a getattr whose failure formats the module's repr into an
AttributeError. An index of the loaded modules gives the same names in a fraction of the time.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from functools import lru_cache
from types import ModuleType
from typing import Any, Dict

from jsonschema import ValidationError, validators
from jsonschema.exceptions import best_match
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@lru_cache(maxsize=1)
def _action_result_validator():
    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self, result: Dict[str, Any]) -> bool:
    error = best_match(_action_result_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from the "
        f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


_MISSING = object()


class _ModuleIndex:
    """sys.modules in order, and for each (object, name) the first module whose namespace holds it.

    Modules that can answer a getattr without holding the name (a module-level __getattr__, or a lazy
    module class such as TensorFlow's) are asked the slow way, in their place in the order, so the
    answer is the one a getattr on every module in turn would give.
    """

    def __init__(self, modules: Dict[str, Any]):
        self.size = len(modules)
        self.order = [(name, module) for name, module in modules.items()
                      if name not in ("__main__", "__mp_main__") and module is not None]
        self.first: Dict[tuple, int] = {}
        self.lazy = []
        for position, (_, module) in enumerate(self.order):
            namespace = getattr(module, "__dict__", None) or {}
            if type(module) is not ModuleType or "__getattr__" in namespace:
                self.lazy.append(position)
            for attribute, value in list(namespace.items()):
                self.first.setdefault((id(value), attribute), position)

    def find(self, obj: Any, name: str) -> Any:
        """The module name, or _MISSING when the index cannot tell (the caller searches)."""
        position = self.first.get((id(obj), name))
        for lazy in self.lazy:
            if position is not None and lazy >= position:
                break
            module_name, module = self.order[lazy]
            if getattr(module, name, _MISSING) is obj:
                return module_name
        if position is None:
            return _MISSING
        module_name, module = self.order[position]
        return module_name if getattr(module, name, _MISSING) is obj else _MISSING


_index: Dict[str, _ModuleIndex] = {}


def _whichmodule(obj: Any, name: str) -> str:
    """skops.io._utils.whichmodule (pickle's): the same answer, from an index of the loaded modules.

    The original tries every loaded module for each of the ~760 ufuncs skops names: 1.5 million
    getattr calls, a third of Rasa's start even once they stopped raising.
    """
    module_name = getattr(obj, "__module__", None)
    if module_name is not None:
        return module_name
    path = name.split(".")
    if "<locals>" in path:
        return "__main__"
    modules = sys.modules.copy()
    if len(path) == 1:
        index = _index.get("modules")
        if index is None or index.size != len(modules):  # modules were imported since: index them too
            index = _index["modules"] = _ModuleIndex(modules)
        found = index.find(obj, name)
        if found is not _MISSING:
            return found
    for module_name, module in modules.items():
        if module_name in ("__main__", "__mp_main__") or module is None:
            continue
        found = module
        for part in path:
            found = getattr(found, part, _MISSING)
            if found is _MISSING:
                break
        if found is obj:
            return module_name
    return "__main__"


class _PatchSkopsOnImport(importlib.abc.MetaPathFinder):
    """Replaces whichmodule as soon as skops.io._utils is executed: importing it ourselves would run
    skops.io's __init__, which does the slow naming before we could step in."""

    MODULE = "skops.io._utils"

    def find_spec(self, fullname, path, target=None):
        if fullname != self.MODULE:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return None
        execute = spec.loader.exec_module

        def exec_module(module):
            execute(module)
            module.whichmodule = _whichmodule

        spec.loader.exec_module = exec_module
        return spec


def apply() -> None:
    RemoteAction._validate_action_result = _validate_action_result
    loaded = sys.modules.get(_PatchSkopsOnImport.MODULE)
    if loaded is not None:
        loaded.whichmodule = _whichmodule
    elif not any(isinstance(finder, _PatchSkopsOnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PatchSkopsOnImport())


__all__ = ["apply", "ValidationError"]
