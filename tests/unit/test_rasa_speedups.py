import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

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
