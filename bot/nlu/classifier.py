"""Rasa's logistic regression on weighted n-gram features, with its regularisation exposed.

Rasa's LogisticRegressionClassifier fits raw token and character counts with
scikit-learn's default C=1. On a few thousand short chat messages that
regularisation is strong enough to pull short, distinctive phrasings
("alo shop", "thôi bye nha") towards the big intents, and long messages weigh
more than short ones only because they have more n-grams. Two changes, measured
by cross-validation per written form (bench/nlu.md):

* counts become sublinear tf-idf rows of unit length, so a message's length
  does not decide its confidence and n-grams every intent shares (the
  character n-grams of "shop", "ạ") count for little;
* C is a setting (config.yml), fitted less conservatively.

The idf weights are learnt at training time and stored beside the model.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.preprocessing import normalize

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

_IDF_FILE = "idf.npy"


def idf_weights(counts: csr_matrix) -> np.ndarray:
    """Smoothed inverse document frequency of each column (scikit-learn's formula)."""
    documents = counts.shape[0]
    frequency = np.bincount(counts.nonzero()[1], minlength=counts.shape[1])
    return np.log((1.0 + documents) / (1.0 + frequency)) + 1.0


def weighted(counts: csr_matrix, idf: Optional[np.ndarray]) -> csr_matrix:
    """log(1 + count) times idf, each row scaled to unit length; columns unseen in training weigh nothing."""
    rows = csr_matrix(counts, dtype=np.float64, copy=True)
    rows.data = np.log1p(np.abs(rows.data))
    if idf is not None:
        # Each stored value times its column's idf: what `rows @ diags(idf)` gives, without building a
        # width × width matrix for every message (a third of the classifier's time at inference).
        known = np.zeros(rows.shape[1])
        known[:min(len(idf), rows.shape[1])] = idf[:rows.shape[1]]
        rows.data *= known[rows.indices]
        rows.eliminate_zeros()
    return normalize(rows, norm="l2", copy=False)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class WeightedLogisticRegressionClassifier(LogisticRegressionClassifier):
    """LogisticRegressionClassifier on tf-idf rows, with C from the config."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), "C": 1.0}

    def __init__(self, config: Dict[Text, Any], name: Text, model_storage: ModelStorage, resource: Resource) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf.set_params(C=float(self.config["C"]))
        self.idf: Optional[np.ndarray] = None

    def _create_X(self, messages: List[Message]) -> csr_matrix:
        return weighted(super()._create_X(messages), self.idf)

    def process(self, messages: List[Message]) -> List[Message]:
        # scikit-learn scores a message with `X @ coef_.T`; for a sparse X SciPy needs that transpose in C
        # order and copied the whole weight matrix (classes × 20,000 features) for every message. Stored in
        # Fortran order, the transpose is already laid out that way: the same numbers, 8 times faster.
        coef = getattr(self.clf, "coef_", None)
        if coef is not None and not coef.flags.f_contiguous:
            self.clf.coef_ = np.asfortranarray(coef)
        return super().process(messages)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get("intent") and e.get("text")]
        if examples:
            self.idf = idf_weights(LogisticRegressionClassifier._create_X(self, examples))
        return super().train(training_data)

    def persist(self) -> None:
        super().persist()
        if self.idf is not None:
            with self._model_storage.write_to(self._resource) as model_dir:
                np.save(model_dir / _IDF_FILE, self.idf)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "WeightedLogisticRegressionClassifier":
        component = super().load(config, model_storage, resource, execution_context, **kwargs)
        try:
            with model_storage.read_from(resource) as model_dir:
                path = model_dir / _IDF_FILE
                if path.exists():
                    component.idf = np.load(path, allow_pickle=False)
        except ValueError:
            pass  # an untrained component: nothing was stored
        return component
