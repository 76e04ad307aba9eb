"""Finding the FAQ entry a customer's question is about.

Everything works on folded text (no diacritics, so "phi ship" meets "phí ship").
Word uni/bigrams catch the wording, character n-grams catch typos, teen-code
and word forms. A logistic regression trained on each entry's example
questions (and, with less weight, its answer) ranks the entries: it learns
which words tell entries apart ("trả hàng" vs "hoàn tiền") instead of
matching on filler words ("shop ơi cho mình hỏi"). The cosine similarity to
the closest example question is kept as a second opinion for "is this an FAQ
question at all?". Training takes well under a second, so a reload after an
editor's change retrains in place.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence

import re

import numpy as np
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.faq.lexicon import concept_text
from bot.faq.loader import FaqEntry
from bot.text import fold

ANSWER_WEIGHT = 0.6
# Each answer sentence is also a (weak) training example of its entry: it
# brings the entry's own vocabulary ("3–7 ngày làm việc", "bưu cục").
# Weight chosen by 5-fold cross-validation on the example questions.
SENTENCE_WEIGHT = 0.3
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class FaqMatch:
    entry: FaqEntry
    score: float  # probability that the question is about this entry
    similarity: float  # cosine similarity to the entry's closest example question


class FaqIndex:
    def __init__(self, entries: Sequence[FaqEntry]):
        self.entries = list(entries)
        owners: List[int] = []
        questions: List[str] = []
        for i, entry in enumerate(self.entries):
            for _, question in entry.question_lines():
                questions.append(question)
                owners.append(i)
        answers = [" ".join(e.answer.values()) for e in self.entries]
        self._owner = np.array(owners, dtype=int)
        self._classifier = None
        if not questions:
            self._words = self._chars = None
            return
        corpus = questions + answers
        self._words = TfidfVectorizer(
            analyzer="word", ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b",
            preprocessor=concept_text,
        )
        self._chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, preprocessor=fold)
        self._words.fit(corpus)
        self._chars.fit(corpus)
        self._questions = self._vectorize(questions)
        self._answers = self._vectorize(answers)
        if len(self.entries) >= 2:
            sentences, sentence_owner = [], []
            for i, entry in enumerate(self.entries):
                for answer in entry.answer.values():
                    for sentence in _SENTENCE_END.split(answer):
                        if len(sentence.split()) >= 4:
                            sentences.append(sentence)
                            sentence_owner.append(i)
            features = self._vectorize(corpus + sentences)
            labels = np.concatenate([self._owner, np.arange(len(self.entries)), np.array(sentence_owner, dtype=int)])
            weights = np.concatenate([
                np.ones(len(questions)), np.full(len(answers), ANSWER_WEIGHT), np.full(len(sentences), SENTENCE_WEIGHT),
            ])
            # liblinear (one-vs-rest) trains in about a second on ~2,000 questions; C chosen by
            # 5-fold cross-validation on the example questions.
            self._classifier = LogisticRegression(C=30.0, solver="liblinear", max_iter=1000)
            self._classifier.fit(features, labels, sample_weight=weights)

    def _vectorize(self, texts: List[str]):
        matrix = hstack([self._words.transform(texts), self._chars.transform(texts)]).tocsr()
        norms = np.sqrt(matrix.multiply(matrix).sum(axis=1)).A1
        norms[norms == 0] = 1.0
        return matrix.multiply(1.0 / norms[:, None]).tocsr()

    def _similarities(self, query) -> np.ndarray:
        question_sims = (self._questions @ query.T).toarray().ravel()
        sims = ANSWER_WEIGHT * (self._answers @ query.T).toarray().ravel()
        np.maximum.at(sims, self._owner, question_sims)
        return sims

    def search(self, text: str, limit: int = 3) -> List[FaqMatch]:
        if self._words is None or not text.strip():
            return []
        query = self._vectorize([text])
        sims = self._similarities(query)
        if self._classifier is None:
            scores = sims
        else:
            scores = np.zeros(len(self.entries))
            scores[self._classifier.classes_] = self._classifier.predict_proba(query)[0]
        order = np.argsort(-scores)[:limit]
        return [FaqMatch(self.entries[i], float(scores[i]), float(sims[i])) for i in order if sims[i] > 0]

    def confusions(self, min_similarity: float) -> List[tuple]:
        """Example questions that are closer to another entry than to their own.

        Returns (entry, question, other_entry, similarity) for each question
        whose nearest neighbour (itself left out) belongs to another entry with
        a similarity of at least `min_similarity`.
        """
        if self._words is None:
            return []
        questions = [q for e in self.entries for _, q in e.question_lines()]
        sims = (self._questions @ self._questions.T).toarray()
        np.fill_diagonal(sims, -1.0)
        answer_sims = (self._questions @ self._answers.T).toarray() * ANSWER_WEIGHT
        found = []
        for row, owner in enumerate(self._owner):
            entry_scores = np.full(len(self.entries), -1.0)
            np.maximum.at(entry_scores, self._owner, sims[row])
            entry_scores = np.maximum(entry_scores, answer_sims[row])
            own = entry_scores[owner]
            entry_scores[owner] = -1.0
            other = int(np.argmax(entry_scores))
            if entry_scores[other] >= min_similarity and entry_scores[other] > own:
                found.append((self.entries[owner], questions[row], self.entries[other], float(entry_scores[other])))
        return found
