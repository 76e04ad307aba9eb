"""Speed-ups for the Rasa server, applied when it loads our REST channel.

Rasa 3.6 validates every action server reply with `jsonschema.validate`, which
first re-checks the (constant) schema against the JSON-Schema meta-schema and
builds a new validator: about a quarter of the server's CPU time under load
(measured with py-spy during `make bench`). We validate against the same schema
with a validator built once; invalid replies raise the same ValidationError.
Even built once, the validator tries each event against all 23 alternatives of the
event schema's `oneOf` (an eighth of Rasa's CPU, py-spy, issue 11); the alternatives
differ by the constant in `event`, so an event can only match the one naming its type.
A reply is first checked against that one alternative per event; anything that fails
there goes through the whole schema, which gives the error exactly as before.

Every event read back from the tracker store or the action server looks its class up by
name in `Event.resolve_by_type`, which lists every subclass of Event (checking each for
abstract methods) on every call: 6% of Rasa's CPU. The classes are all defined when
rasa.shared.core.events is imported, so the name → class table is built once.

Every message runs the model's graph (NLU, then the policies) through dask's synchronous
scheduler, which builds a task graph, orders it and tracks dependents for a dozen nodes that only
ever run one after the other: a fifth of Rasa's CPU under load (py-spy, issue 11).
SequentialGraphRunner runs the same nodes with the same inputs in dependency order, in a plain loop.

Every call to the action server (several per message) went through EndpointConfig.request, which
opens a new aiohttp session and a new TCP connection and closes both afterwards: a fifth of Rasa's
CPU. `_kept_session` keeps one session per endpoint (per event loop) with keep-alive connections;
idle ones are dropped after 2 s, before Sanic's 5 s keep-alive ends them from the other side.
The same session encodes the request body (the tracker and Rasa's whole domain, ~35 KB, on every
call) with ujson, which Rasa already depends on: 7 times faster than json.dumps, and it decodes to
the same values; anything ujson refuses is encoded by json.dumps as before.

The `language` slot is filled by a custom mapping action after every customer message: a call to
the action server (with the whole tracker and domain) for a rule that needs only the message and the
slot, almost half of all action server calls. `action_detect_language` runs inside Rasa instead
(bot/services/language.py has the rule); Rasa keeps what it would have kept of the events a remote
mapping action returns. Other mapping actions still go to the action server.

Loading the model took about half of Rasa's start (7 of 13 s of CPU), so half of the time a
crashed Rasa stays away (bot/supervisor.py): skops, which reads the NLU classifier, names ~760
numpy and scipy ufuncs when first imported, and for each one tries every loaded module (~4,000
once TensorFlow is in) with a getattr whose failure formats the module's repr into an
AttributeError. An index of the loaded modules gives the same names in a fraction of the time.
"""
from __future__ import annotations

import asyncio
import importlib.abc
import importlib.util
import json
import sys
from functools import lru_cache
from types import ModuleType
from typing import Any, Dict, List, Optional, Text, Tuple

import aiohttp
import ujson
from jsonschema import ValidationError, validators
from jsonschema.exceptions import best_match
from rasa.core.actions.action import ActionExtractSlots, RemoteAction
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import BotUttered, Event, SlotSet
from rasa.shared.utils.common import all_subclasses
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

from bot.services.language import next_language
from bot.text import nfc


@lru_cache(maxsize=1)
def _action_result_validator():
    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@lru_cache(maxsize=1)
def _event_validators() -> Optional[Dict[str, Any]]:
    """For each event type, a validator of Rasa's event schema narrowed to that type's `oneOf` alternative.

    None when the reply schema is no longer the shape this relies on (a reply object whose `events` is an
    array of objects, one `oneOf` alternative per distinct `event` constant): every reply then goes through
    the whole schema.
    """
    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    try:
        events = schema["properties"]["events"]
        responses = schema["properties"]["responses"]
        event = events["items"]
        shape_ok = (set(schema) == {"type", "properties"} and schema["type"] == "object"
                    and set(schema["properties"]) == {"events", "responses"}
                    and events == {"type": "array", "items": event}
                    and responses == {"type": "array", "items": {"type": "object"}}
                    and event.get("type") == "object" and "event" in event.get("required", ()))
        constants = [alternative["properties"]["event"]["const"] for alternative in event["oneOf"]]
    except (KeyError, TypeError):
        return None
    if not shape_ok or len(set(constants)) != len(constants) or not all(isinstance(c, str) for c in constants):
        return None
    outer = {key: value for key, value in event.items() if key != "oneOf"}
    return {constant: cls({**outer, "allOf": [alternative]})
            for constant, alternative in zip(constants, event["oneOf"])}


def _valid_by_event_type(result: Any) -> bool:
    """True only when the reply is valid under Rasa's schema; False means "ask the whole schema"."""
    by_type = _event_validators()
    if by_type is None or not isinstance(result, dict):
        return False
    events, responses = result.get("events", []), result.get("responses", [])
    if not isinstance(events, list) or not isinstance(responses, list):
        return False
    if not all(isinstance(response, dict) for response in responses):
        return False
    for event in events:
        name = event.get("event") if isinstance(event, dict) else None
        validator = by_type.get(name) if isinstance(name, str) else None
        if validator is None or not validator.is_valid(event):
            return False
    return True


def _validate_action_result(self, result: Dict[str, Any]) -> bool:
    if _valid_by_event_type(result):
        return True
    error = best_match(_action_result_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from the "
        f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


# Rasa's own function even if this module is imported again after apply() (else a miss would recurse).
_original_resolve_by_type = getattr(Event.resolve_by_type, "_hotro_original", Event.resolve_by_type)


@lru_cache(maxsize=1)
def _event_classes() -> Dict[str, type]:
    """Each event name's class: the first in all_subclasses' order, the one the original's scan returns."""
    classes: Dict[str, type] = {}
    for cls in all_subclasses(Event):
        classes.setdefault(cls.type_name, cls)
    return classes


def _resolve_by_type(type_name: Text, default: Optional[type] = None) -> Optional[type]:
    """Event.resolve_by_type without listing every subclass of Event on each call."""
    found = _event_classes().get(type_name) if isinstance(type_name, str) else None
    if found is not None:
        return found
    # An unknown name is rare (or junk): the original's own answer (None, the default or its error), uncached.
    return _original_resolve_by_type(type_name, default)


_resolve_by_type._hotro_original = _original_resolve_by_type


def _detect_language(tracker: Any) -> List[Any]:
    """action_detect_language: what the action server's version returned, from the same tracker fields."""
    message = tracker.latest_message.parse_data if tracker.latest_message else {}
    chosen = next_language(nfc(message.get("text") or ""), (message.get("metadata") or {}).get("language"),
                           len(tracker.events), tracker.get_slot("language"))
    return [SlotSet("language", chosen)] if chosen else []


# Custom slot-mapping actions Rasa runs itself: name -> function of the tracker giving the events.
LOCAL_MAPPING_ACTIONS = {"action_detect_language": _detect_language}
_original_run_custom_action = getattr(ActionExtractSlots._run_custom_action, "_hotro_original",
                                      ActionExtractSlots._run_custom_action)


async def _run_custom_action(self, custom_action: Text, output_channel: Any, nlg: Any, tracker: Any,
                             domain: Any) -> List[Any]:
    """ActionExtractSlots._run_custom_action: local mapping actions in-process, the rest on the action server."""
    local = LOCAL_MAPPING_ACTIONS.get(custom_action)
    if local is None:
        return await _original_run_custom_action(self, custom_action, output_channel, nlg, tracker, domain)
    return [event for event in local(tracker) if isinstance(event, (SlotSet, BotUttered))]


_run_custom_action._hotro_original = _original_run_custom_action


class SequentialGraphRunner(DaskGraphRunner):
    """DaskGraphRunner's results, without dask: each node once, after the nodes it needs, in one thread.

    Same nodes (built by DaskGraphRunner), same arguments in the same order (each node gets the
    `(name, output)` pairs of its `needs`, as dask passes them), same input checks and errors. Dask's
    synchronous scheduler runs tasks one at a time too, so nothing ran in parallel before either.
    """

    def run(self, inputs: Optional[Dict[Text, Any]] = None, targets: Optional[List[Text]] = None) -> Dict[Text, Any]:
        run_targets = targets if targets else self._graph_schema.target_names
        order = self._order(tuple(run_targets))
        values: Dict[Text, Any] = {}
        if inputs:
            known = set(order)
            for input_name, input_value in inputs.items():
                if isinstance(input_value, str) and input_value in known:
                    raise GraphRunError(
                        f"Input value '{input_value}' clashes with a node name. Make sure "
                        f"that none of the input names passed to the `run` method are the "
                        f"same as node names in the graph schema."
                    )
                known.add(input_name)
                values[input_name] = (input_name, input_value)
        nodes = self._graph_schema.nodes
        try:
            for node_name in order:
                if node_name in values:  # an input named like a node replaces it, as in dask's graph
                    continue
                # A need that is neither a node nor an input reaches the node as the bare name, as dask passes it.
                arguments = [values.get(need, need) for need in nodes[node_name].needs.values()]
                values[node_name] = self._instantiated_nodes[node_name](*arguments)
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e
        return dict(values[target] for target in run_targets)

    def _order(self, targets: Tuple[Text, ...]) -> List[Text]:
        """The nodes the targets need, each after its own needs (cached: the schema never changes)."""
        cache = self.__dict__.setdefault("_orders", {})
        if targets not in cache:
            nodes, order, placed = self._graph_schema.nodes, [], set()

            def place(name: Text, path: Tuple[Text, ...]) -> None:
                if name in placed or name not in nodes:
                    return
                if name in path:
                    raise GraphRunError(f"Cycle in the graph at node '{name}'.")
                for need in nodes[name].needs.values():
                    place(need, path + (name,))
                placed.add(name)
                order.append(name)

            for target in targets:
                place(target, ())
            cache[targets] = order
        return cache[targets]


KEEPALIVE_SECONDS = 2.0  # below the action server's (Sanic's) KEEP_ALIVE_TIMEOUT of 5 s


class _KeptSession:
    """What EndpointConfig.session() returned (a context manager giving a session) without closing it on exit."""

    def __init__(self, session):
        self._session = session

    async def __aenter__(self):
        return self._session

    async def __aexit__(self, *_exc) -> bool:
        return False


def _json_dumps(value: Any) -> str:
    try:
        return ujson.dumps(value)
    except (TypeError, ValueError, OverflowError):  # NaN, huge integers, objects: json.dumps's answer, or its error
        return json.dumps(value)


def _kept_session(self) -> _KeptSession:
    """EndpointConfig.session, kept open: the same headers, authentication and timeout, built once per loop."""
    loop = asyncio.get_running_loop()
    kept = self.__dict__.get("_hotro_session")
    if kept is None or kept[0] is not loop or kept[1].closed:
        auth = (aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
                if self.basic_auth else None)
        session = aiohttp.ClientSession(
            headers=self.headers, auth=auth, timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS), json_serialize=_json_dumps)
        kept = self.__dict__["_hotro_session"] = (loop, session)
    return _KeptSession(kept[1])


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
    import rasa.core.processor

    RemoteAction._validate_action_result = _validate_action_result
    Event.resolve_by_type = staticmethod(_resolve_by_type)
    ActionExtractSlots._run_custom_action = _run_custom_action
    EndpointConfig.session = _kept_session
    # The processor names the runner class when it loads the model (after our channel is imported).
    rasa.core.processor.DaskGraphRunner = SequentialGraphRunner
    loaded = sys.modules.get(_PatchSkopsOnImport.MODULE)
    if loaded is not None:
        loaded.whichmodule = _whichmodule
    elif not any(isinstance(finder, _PatchSkopsOnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PatchSkopsOnImport())


__all__ = ["apply", "ValidationError"]
