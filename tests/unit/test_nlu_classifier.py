"""The intent classifier's feature weighting and its stored idf."""
import numpy as np
import pytest
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


def test_weighting_is_the_idf_diagonal_product_it_replaces():
    """weighted() scales values in place; it must give what `rows @ diags(idf)` gave, to the last bit that matters."""
    from scipy.sparse import diags, random as sparse_random
    from sklearn.preprocessing import normalize

    generator = np.random.default_rng(7)
    for width, idf_length in ((50, 50), (60, 40), (30, 45)):
        counts = sparse_random(20, width, density=0.2, format="csr", random_state=generator) * 5
        counts.data = np.ceil(counts.data)
        idf = generator.uniform(1, 4, idf_length)
        idf[::7] = 0.0  # a column the training never saw counts for nothing
        rows = csr_matrix(counts, dtype=np.float64, copy=True)
        rows.data = np.log1p(np.abs(rows.data))
        known = idf[:width] if len(idf) >= width else np.concatenate([idf, np.zeros(width - len(idf))])
        expected = normalize(rows @ diags(known), norm="l2")
        got = weighted(counts, idf)
        assert np.allclose(got.toarray(), expected.toarray(), rtol=1e-12, atol=0)
        assert got.nnz == expected.nnz  # no stored zeros the old product would have dropped


def test_scoring_with_weights_in_fortran_order_gives_the_same_intents(tmp_path):
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "intent_classifier")
    config = {**WeightedLogisticRegressionClassifier.get_default_config(), "C": 50}
    component = WeightedLogisticRegressionClassifier.create(config, storage, Resource("c"), context)
    examples = [_message("a", "greet", [3, 0, 1, 0]), _message("b", "greet", [2, 0, 1, 0]),
                _message("c", "faq", [0, 4, 1, 0]), _message("d", "faq", [0, 1, 1, 0]),
                _message("e", "bye", [0, 0, 1, 3]), _message("f", "bye", [0, 0, 2, 5])]
    component.train(TrainingData(examples))
    component.clf.coef_ = np.ascontiguousarray(component.clf.coef_)
    vectors = [[1, 0, 1, 0], [0, 3, 0, 1], [1, 1, 1, 1], [0, 0, 0, 2]]
    before = component.clf.predict_proba(component._create_X([_message("x", None, v) for v in vectors]))
    probes = [_message("x", None, v) for v in vectors]
    component.process(probes)
    assert component.clf.coef_.flags.f_contiguous
    for probe, expected in zip(probes, before):
        ranking = {item["name"]: item["confidence"] for item in probe.get("intent_ranking")}
        assert [ranking[name] for name in component.clf.classes_] == pytest.approx(list(expected), abs=1e-12)
