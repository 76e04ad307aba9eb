"""The intent classifier's feature weighting and its stored idf."""
import numpy as np
from scipy.sparse import csr_matrix

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.classifier import WeightedLogisticRegressionClassifier, idf_weights, weighted


def test_rows_have_unit_length_whatever_the_message_length():
    counts = csr_matrix(np.array([[1, 0, 0], [9, 3, 3]], dtype=float))
    rows = weighted(counts, idf=None).toarray()
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0)
    # Sublinear: nine of a word is not nine times one of it.
    assert rows[1, 0] / rows[1, 1] < 3


def test_a_column_every_message_has_weighs_less_than_a_rare_one():
    counts = csr_matrix(np.array([[1, 1], [1, 0], [1, 0]], dtype=float))
    idf = idf_weights(counts)
    assert idf[0] < idf[1]
    row = weighted(csr_matrix(np.array([[1, 1]], dtype=float)), idf).toarray()[0]
    assert row[0] < row[1]


def test_columns_beyond_the_trained_idf_weigh_nothing():
    row = weighted(csr_matrix(np.array([[1.0, 1.0, 5.0]])), np.array([1.0, 2.0])).toarray()[0]
    assert row[2] == 0 and row[1] > row[0] > 0


def _message(text, intent, vector):
    message = Message(data={"text": text, "intent": intent})
    message.add_features(Features(csr_matrix(np.array([vector], dtype=float)), "sentence", "text", "test"))
    return message


def test_trained_weights_survive_storing_and_loading(tmp_path):
    storage = LocalModelStorage(tmp_path)
    resource = Resource("intent_classifier")
    context = ExecutionContext(GraphSchema({}), "intent_classifier")
    config = {**WeightedLogisticRegressionClassifier.get_default_config(), "C": 50}
    component = WeightedLogisticRegressionClassifier.create(config, storage, resource, context)
    assert component.clf.C == 50
    examples = [_message("a", "greet", [3, 0, 1]), _message("b", "greet", [2, 0, 1]),
                _message("c", "faq", [0, 4, 1]), _message("d", "faq", [0, 1, 1])]
    component.train(TrainingData(examples))

    loaded = WeightedLogisticRegressionClassifier.load(config, storage, resource, context)
    assert np.array_equal(loaded.idf, component.idf)
    probe = [_message("e", None, [0, 2, 1])]
    loaded.process(probe)
    assert probe[0].get("intent")["name"] == "faq"
