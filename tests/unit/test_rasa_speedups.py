import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage

from bot import rasa_speedups


@pytest.fixture
def action():
    rasa_speedups.apply()
    return RemoteAction("action_x", None)


def test_valid_action_replies_pass(action):
    reply = {"events": [{"event": "slot", "name": "a", "value": 1}], "responses": [{"response": "utter_x"}]}
    assert action._validate_action_result(reply) is True


def _all_event_shapes():
    """One serialised event of every type Rasa has, as an action server would send it."""
    from rasa.shared.core import events as ev

    samples = [
        ev.UserUttered("xin chào", {"name": "greet", "confidence": 0.9}, [{"entity": "e", "value": "v", "start": 0,
                                                                              "end": 1}]),
        ev.BotUttered("chào", {"buttons": []}), ev.SlotSet("order_number", "DH100002"),
        ev.ActionExecuted("action_listen", policy="p", confidence=1.0), ev.ActiveLoop("complaint_form"),
        ev.ActiveLoop(None), ev.FollowupAction("action_x"), ev.AllSlotsReset(), ev.Restarted(), ev.SessionStarted(),
        ev.ConversationPaused(), ev.ConversationResumed(), ev.UserUtteranceReverted(), ev.ActionReverted(),
        ev.StoryExported(), ev.LoopInterrupted(True), ev.ActionExecutionRejected("action_x"),
        ev.EntitiesAdded([{"entity": "e", "value": 1}]), ev.AgentUttered("hi"),
        ev.ReminderScheduled("intent", __import__("datetime").datetime(2030, 1, 1), name="r"),
        ev.ReminderCancelled(name="r"), ev.DefinePrevUserUtteredFeaturization(False),
    ]
    # The old names of active_loop and loop_interrupted: still accepted, no longer written by Rasa.
    return [event.as_dict() for event in samples] + [{"event": "form", "name": "f", "timestamp": 1.0},
                                                     {"event": "form_validation", "validate": True}]


def _mutations(event):
    """Invalid (or borderline) variants: each property given a value of the wrong type, the type renamed, dropped."""
    yield {k: v for k, v in event.items() if k != "event"}
    yield {**event, "event": event["event"] + "x"}
    yield {**event, "event": 7}
    for key in event:
        for wrong in (None, 1, "s", [], {}, True, 1.5):
            yield {**event, key: wrong}


def _schema_says_valid(reply) -> bool:
    from jsonschema import validate

    try:
        validate(reply, RemoteAction.action_response_format_spec())
        return True
    except ValidationError:
        return False


def test_the_per_type_check_only_passes_what_the_whole_schema_passes():
    events = _all_event_shapes()
    assert {event["event"] for event in events} == set(rasa_speedups._event_validators())  # every type is covered
    replies = [{"events": events, "responses": [{"text": "a"}, {"response": "utter_x"}]}, {}, {"events": []},
               {"events": "x"}, {"responses": [1]}, {"responses": {}}, {"events": [None]}, [], "x", None]
    replies += [{"events": [variant]} for event in events for variant in _mutations(event)]
    for reply in replies:
        fast = rasa_speedups._valid_by_event_type(reply)
        assert not fast or _schema_says_valid(reply), reply
        assert fast == _schema_says_valid(reply) or not isinstance(reply, dict), reply  # and takes no detours
    assert rasa_speedups._valid_by_event_type({"events": events})


def test_a_refused_reply_gets_the_error_the_whole_schema_gives(action):
    from jsonschema import validate

    for reply in ({"events": [{"event": "slot", "value": 1}]}, {"events": [{"event": "nope"}]},
                  {"responses": ["text"]}, {"events": [{"event": "user", "text": 5}]}):
        with pytest.raises(ValidationError) as ours:
            action._validate_action_result(reply)
        with pytest.raises(ValidationError) as theirs:
            validate(reply, RemoteAction.action_response_format_spec())
        assert ours.value.message.startswith(theirs.value.message + ". Failed to validate Action server response")
        assert list(ours.value.path) == list(theirs.value.path)


def test_event_classes_resolve_as_before():
    from rasa.shared.core.events import Event, SlotSet
    from rasa.shared.utils.common import all_subclasses

    rasa_speedups.apply()
    original = rasa_speedups._original_resolve_by_type
    assert Event.resolve_by_type is not original
    for name in {cls.type_name for cls in all_subclasses(Event)}:
        assert Event.resolve_by_type(name) is original(name)
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no-such-event", SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'no-such-event'"):
        Event.resolve_by_type("no-such-event")
    assert Event.from_parameters({"event": "slot", "name": "a", "value": 1}) == SlotSet("a", 1)


def test_invalid_action_replies_are_still_refused(action):
    with pytest.raises(ValidationError) as err:
        action._validate_action_result({"events": "not a list"})
    assert "Failed to validate Action server response" in err.value.message



def test_skops_names_ufuncs_as_before():
    """Same names as pickle's whichmodule, which skops copied: the model's trusted types are unchanged."""
    import pickle

    import numpy as np
    import scipy.special
    from skops.io import _utils

    rasa_speedups.apply()
    assert _utils.whichmodule is rasa_speedups._whichmodule
    ufuncs = [getattr(module, name) for module in (np, scipy.special) for name in dir(module)
              if isinstance(getattr(module, name), np.ufunc)]
    assert len(ufuncs) > 300
    for obj in ufuncs[::15] + [np.float64, _utils.get_module]:  # pickle's search is the slow one: a sample
        assert rasa_speedups._whichmodule(obj, obj.__name__) == pickle.whichmodule(obj, obj.__name__)


# -- the graph runner ------------------------------------------------------------------------------

class _Step(GraphComponent):
    """Appends its name to whatever it was given: the output shows which inputs, in which order."""

    calls: list = []

    def __init__(self, name):
        self.name = name

    @classmethod
    def create(cls, config, model_storage, resource, execution_context):
        return cls(config["name"])

    def run(self, **given):
        _Step.calls.append(self.name)
        if self.name == "boom":
            raise RuntimeError("node failed")
        return [self.name, sorted((key, value) for key, value in given.items())]


def _schema(extra=()):
    def node(name, needs, target=False):
        return SchemaNode(needs=needs, uses=_Step, constructor_name="create", fn="run", config={"name": name},
                          is_target=target)

    nodes = {
        "tokens": node("tokens", {"message": "__message__"}),
        "features": node("features", {"tokens": "tokens", "message": "__message__"}),
        "intent": node("intent", {"features": "features", "tokens": "tokens"}),
        "policy": node("policy", {"tracker": "__tracker__", "intent": "intent"}),
        "chooser": node("chooser", {"a": "policy", "b": "intent"}, target=True),
        "unused": node("unused", {"message": "__message__"}),
    }
    nodes.update(extra)
    return GraphSchema(nodes)


def _runners(tmp_path, schema):
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(schema, "model-id")
    return (DaskGraphRunner(schema, storage, context), rasa_speedups.SequentialGraphRunner(schema, storage, context))


@pytest.mark.parametrize("targets", [None, ["intent"], ["chooser", "tokens"], ["__message__", "policy"]])
def test_the_sequential_runner_gives_what_dask_gives(tmp_path, targets):
    dask_runner, ours = _runners(tmp_path, _schema())
    inputs = {"__message__": ["hello"], "__tracker__": {"events": []}}
    _Step.calls.clear()
    expected = dask_runner.run(inputs, targets)
    ran_with_dask = sorted(_Step.calls)
    _Step.calls.clear()
    assert ours.run(inputs, targets) == expected
    assert sorted(_Step.calls) == ran_with_dask  # the same nodes, each once (not "unused")
    if "chooser" in (targets or ["chooser"]):
        assert _Step.calls.index("tokens") < _Step.calls.index("features") < _Step.calls.index("intent")


def test_the_sequential_runner_fails_like_dask(tmp_path):
    dask_runner, ours = _runners(tmp_path, _schema())
    for runner in (dask_runner, ours):  # an input whose value names a node
        with pytest.raises(GraphRunError, match="clashes with a node name"):
            runner.run({"__message__": "tokens", "__tracker__": None})
    boom = {"boom": SchemaNode(needs={"m": "__message__"}, uses=_Step, constructor_name="create", fn="run",
                               config={"name": "boom"}, is_target=True)}
    dask_runner, ours = _runners(tmp_path, _schema(boom))
    errors = []
    for runner in (dask_runner, ours):
        with pytest.raises(Exception) as caught:
            runner.run({"__message__": ["x"], "__tracker__": None}, ["boom"])
        errors.append((type(caught.value), type(caught.value.__cause__)))
    assert errors[0] == errors[1]


def test_rasa_loads_models_with_the_sequential_runner():
    import rasa.core.processor

    rasa_speedups.apply()
    assert rasa.core.processor.DaskGraphRunner is rasa_speedups.SequentialGraphRunner


# Rasa code the speed-ups replace or rely on, as in the Rasa version they were written against. A Rasa
# upgrade that changes any of it fails here: read the new code, check the speed-up still gives the same
# answers (and these tests still pass for the right reason), then record the new fingerprints.
PATCHED = {
    "rasa.utils.endpoints.EndpointConfig.session": "f6136492eac7ede3",
    "rasa.utils.endpoints.EndpointConfig.request": "bc49eb77a158ac1e",
    "rasa.core.actions.action.RemoteAction._validate_action_result": "24da0f6bdeb2d44f",
    "rasa.core.actions.action.RemoteAction.action_response_format_spec": "6f492274727ebb10",
    "rasa.shared.core.events.Event.resolve_by_type": "ffabe9999fc8f7f3",
    "rasa.core.actions.action.ActionExtractSlots._run_custom_action": "078d2771589cb222",
    "rasa.core.actions.action.ActionExtractSlots._execute_custom_action": "c1335b40c4ba694c",
    "rasa.core.processor.MessageProcessor._load_model": "dc5cda8c01f32977",
    "rasa.engine.graph.GraphNode.__call__": "89e0bd700fc331a5",
    "rasa.engine.graph.GraphSchema.minimal_graph_schema": "6159296cd62fe3dd",
    "rasa.engine.runner.dask.DaskGraphRunner._add_inputs_to_graph": "b07006aa1a09bb5b",
    "rasa.engine.runner.dask.DaskGraphRunner._build_dask_graph": "0035c0b37188c4b1",
    "rasa.engine.runner.dask.DaskGraphRunner.run": "ce0438b9b8e79330",
}


def _fingerprint(dotted: str) -> str:
    """Of the function's text in Rasa's own file (the class attribute may already be our replacement)."""
    import ast
    import hashlib
    import importlib.util
    from pathlib import Path

    module_name, class_name, function_name = dotted.rsplit(".", 2)
    source = Path(importlib.util.find_spec(module_name).origin).read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == function_name:
                    return hashlib.sha256(ast.get_source_segment(source, item).encode()).hexdigest()[:16]
    return "missing"


@pytest.mark.parametrize("dotted", sorted(PATCHED))
def test_the_rasa_code_the_speedups_depend_on_is_unchanged(dotted):
    import rasa

    assert (rasa.__version__, _fingerprint(dotted)) == ("3.6.21", PATCHED[dotted]), (
        f"{dotted} changed in Rasa {rasa.__version__}: re-check bot/rasa_speedups.py against it")


# -- calls to the action server -------------------------------------------------------------------

def test_calls_to_an_endpoint_keep_one_connection_and_behave_as_before():
    import asyncio

    from aiohttp import web
    from rasa.utils.endpoints import ClientResponseError, EndpointConfig

    from tests.serving import serve

    rasa_speedups.apply()
    seen = []

    async def answer(request: web.Request) -> web.Response:
        seen.append((request.transport.get_extra_info("peername")[1], request.headers.get("X-Secret"),
                     request.query.get("token"), await request.json()))
        if request.path == "/fail":
            return web.json_response({"error": "no"}, status=500)
        return web.json_response({"events": [], "echo": (await request.json())["n"]})

    async def main():
        app = web.Application()
        app.router.add_post("/webhook", answer)
        app.router.add_post("/fail", answer)
        runner, base = await serve(app)
        endpoint = EndpointConfig(f"{base}/webhook", headers={"X-Secret": "s"}, token="t")
        failing = EndpointConfig(f"{base}/fail")
        try:
            replies = [await endpoint.request(json={"n": n}, method="post") for n in range(3)]
            with pytest.raises(ClientResponseError) as failed:
                await failing.request(json={"n": 9}, method="post")
            return replies, failed.value
        finally:
            for kept in (endpoint, failing):
                await kept.__dict__["_hotro_session"][1].close()
            await runner.cleanup()

    replies, failure = asyncio.run(main())
    assert replies == [{"events": [], "echo": n} for n in range(3)]
    assert [(secret, token, body) for _, secret, token, body in seen[:3]] == [("s", "t", {"n": n}) for n in range(3)]
    assert len({port for port, *_ in seen[:3]}) == 1  # one connection for the three calls
    assert failure.status == 500  # errors reach Rasa's action code as before (it turns them into its own)


def test_action_calls_are_encoded_to_the_same_json_values():
    """The domain and a tracker as Rasa sends them decode to what json.dumps gave; what ujson refuses falls back."""
    import json

    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

    from bot.config import ROOT

    domain = Domain.load(str(ROOT / "domain.yml"))
    tracker = DialogueStateTracker.from_events("khách/1", [
        ActionExecuted("action_listen"),
        UserUttered("tôi muốn khiếu nại đơn DH100002 \"gấp\" 😡 \\ / </script>",
                    {"name": "complain", "confidence": 0.9876543210123}, metadata={"language": "vi"}),
        SlotSet("order_number", "DH100002"), SlotSet("score", 1e-7), SlotSet("big", 2 ** 53 + 1),
        BotUttered("Mình đã tìm thấy đơn", {"buttons": [{"title": "Có", "payload": "/affirm"}]}),
    ], slots=domain.slots)
    body = {"next_action": "validate_complaint_form", "sender_id": tracker.sender_id,
            "tracker": tracker.current_state(EventVerbosity.ALL), "domain": domain.as_dict(), "version": "3.6.21"}
    assert json.loads(rasa_speedups._json_dumps(body)) == json.loads(json.dumps(body))
    assert rasa_speedups._json_dumps({"x": float("inf")}).replace(" ", "") == '{"x":Infinity}'  # as json.dumps
    assert json.loads(rasa_speedups._json_dumps({"x": 10 ** 30})) == {"x": 10 ** 30}
    with pytest.raises(TypeError):
        rasa_speedups._json_dumps({"x": object()})
