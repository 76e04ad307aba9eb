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
AttributeError. The same search without building those exceptions gives the same names.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from functools import lru_cache
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


def _whichmodule(obj: Any, name: str) -> str:
    """skops.io._utils.whichmodule (pickle's), answering the same without raising on every miss."""
    module_name = getattr(obj, "__module__", None)
    if module_name is not None:
        return module_name
    path = name.split(".")
    if "<locals>" in path:
        return "__main__"
    for module_name, module in sys.modules.copy().items():
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
