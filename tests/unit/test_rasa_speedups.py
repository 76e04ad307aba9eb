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
