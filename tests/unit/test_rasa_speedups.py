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
