"""Finding the FAQ entry a customer's question is about.

Everything works on folded text (no diacritics, so "phi ship" meets "phí ship").
Word uni/bigrams over the shop lexicon's concepts catch the wording, character
n-grams catch typos, teen-code and word forms.

An entry is scored by three similarities to the question, blended:
  - its closest example question (nearest neighbour),
  - the centre of its example questions (what they have in common),
  - its answer text (an entry's own vocabulary: "giá sỉ", "chiết khấu").
None of them needs many examples: an entry with two or three questions and
an answer competes on equal terms with one that has thirty. Inverse document
frequencies are counted per entry, not per question, for the same reason: a
word that thirty questions of one entry repeat is as telling as a word that a
new entry uses twice.

A small logistic regression per entry, trained against its nearest entries,
adds what similarity cannot: which words tell close entries apart ("trả hàng"
vs "hoàn tiền"). The blend becomes a probability over entries with a softmax
(`score`); the blend itself says whether the question is an FAQ question at
all (`similarity`). Building is linear in the number of questions (no pairwise
step, no one-vs-rest over the whole FAQ), and a question reads only the
postings of its own features.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Sequence, Tuple

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from bot.faq.lexicon import concept_text
from bot.faq.loader import FaqEntry
from bot.text import fold

# Blend weights, classifier share and softmax temperature: chosen by the
# cross-validation on the example questions (`python -m bot faq cv`) together
# with the few-shot cross-validation (`python -m bot faq cv --few-shot`), never
# on held-out paraphrases.
NEIGHBOUR_WEIGHT = 0.1
CENTROID_WEIGHT = 0.3
ANSWER_WEIGHT = 0.6
CLASSIFIER_SHARE = 0.2
TEMPERATURE = 0.05
# How much the word block counts against the character block in a vector.
WORD_BLOCK = 0.6
# Each entry's classifier sees its own rows, its closest entries' rows and a sample of the rest.
NEIGHBOURS = 12
OTHERS_SAMPLE = 200
CLASSIFIER_C = 30.0
# An answer (and each of its sentences) is a weaker example of its entry than a question.
ANSWER_ROW_WEIGHT = 0.5
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class FaqMatch:
    entry: FaqEntry
    score: float  # probability that the question is about this entry
    similarity: float  # blended similarity to the entry (0: nothing in common)


def word_features(text: str) -> List[str]:
    tokens = concept_text(text).split()
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


def char_features(text: str) -> List[str]:
    grams = []
    for token in _WORD.findall(fold(text)):
        padded = f" {token} "
        size = len(padded)
        for n in range(2, 6):
            grams.extend(padded[i:i + n] for i in range(size - n + 1))
    return grams


class _Features:
    """Text → (word features, char features), remembered: a rebuild after an editor's
    change re-analyses only the questions that changed."""

    def __init__(self, limit: int = 200_000):
        self._cache: Dict[str, Tuple[Tuple[str, ...], Tuple[str, ...]]] = {}
        self._limit = limit

    def __call__(self, text: str) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
        found = self._cache.get(text)
        if found is None:
            found = (tuple(word_features(text)), tuple(char_features(text)))
            if len(self._cache) >= self._limit:
                self._cache.clear()
            self._cache[text] = found
        return found


_SHARED_FEATURES = _Features()


class _Space:
    """Vocabulary and per-entry inverse document frequencies of one feature block."""

    def __init__(self, documents: Sequence[Iterable[str]], owners: Sequence[int], entry_count: int):
        vocabulary: Dict[str, int] = {}
        seen_in: Dict[int, set] = {}
        for features, owner in zip(documents, owners):
            for feature in features:
                index = vocabulary.setdefault(feature, len(vocabulary))
                seen_in.setdefault(index, set()).add(owner)
        df = np.zeros(len(vocabulary))
        for index, entries in seen_in.items():
            df[index] = len(entries)
        self.vocabulary = vocabulary
        self.idf = np.log((1.0 + entry_count) / (1.0 + df)) + 1.0

    def matrix(self, documents: Sequence[Iterable[str]]) -> sparse.csr_matrix:
        indptr, indices, values = [0], [], []
        vocabulary, idf = self.vocabulary, self.idf
        for features in documents:
            counts = Counter(vocabulary[f] for f in features if f in vocabulary)
            if counts:
                ids = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
                tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=float, count=len(counts)))
                weights = tf * idf[ids]
                weights /= np.linalg.norm(weights)
                indices.extend(ids.tolist())
                values.extend(weights.tolist())
            indptr.append(len(indices))
        return sparse.csr_matrix(
            (np.array(values, dtype=np.float32), np.array(indices, dtype=np.int64), np.array(indptr, dtype=np.int64)),
            shape=(len(documents), len(vocabulary)),
        )


def _normalize_rows(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix, dtype=np.float32)


class FaqIndex:
    def __init__(self, entries: Sequence[FaqEntry], features: Callable = _SHARED_FEATURES):
        self.entries = list(entries)
        self._features = features
        owners: List[int] = []
        questions: List[str] = []
        for i, entry in enumerate(self.entries):
            for _, question in entry.question_lines():
                questions.append(question)
                owners.append(i)
        self._owner = np.array(owners, dtype=np.int64)
        self._empty = not questions
        self._classifier_t = None
        if self._empty:
            return
        # Answers: the whole text of each language, and each sentence of four words or more.
        answer_texts, answer_owner = [], []
        for i, entry in enumerate(self.entries):
            for answer in entry.answer.values():
                answer_texts.append(answer)
                answer_owner.append(i)
                for sentence in _SENTENCE_END.split(answer):
                    if len(sentence.split()) >= 4 and sentence.strip() != answer.strip():
                        answer_texts.append(sentence)
                        answer_owner.append(i)
        self._answer_owner = np.array(answer_owner, dtype=np.int64)
        analysed_q = [self._features(q) for q in questions]
        analysed_a = [self._features(a) for a in answer_texts]
        all_owners = owners + answer_owner
        n = len(self.entries)
        self._words = _Space([w for w, _ in analysed_q + analysed_a], all_owners, n)
        self._chars = _Space([c for _, c in analysed_q + analysed_a], all_owners, n)
        question_matrix = self._vectorize(analysed_q)
        answer_matrix = self._vectorize(analysed_a)
        membership = sparse.csr_matrix(
            (np.ones(len(owners), dtype=np.float32), (self._owner, np.arange(len(owners)))), shape=(n, len(owners)))
        centroids = _normalize_rows(membership @ question_matrix)
        # Transposed (feature → rows): a question then reads only its own features' postings.
        self._questions_t = question_matrix.T.tocsr()
        self._centroids_t = centroids.T.tocsr()
        self._answers_t = answer_matrix.T.tocsr()
        # Questions are grouped by entry, so the best question of each entry is a segment maximum.
        self._starts = np.searchsorted(self._owner, np.arange(n))
        self._has_questions = np.bincount(self._owner, minlength=n) > 0
        self._answer_starts = np.searchsorted(self._answer_owner, np.arange(n))
        self._has_answers = np.bincount(self._answer_owner, minlength=n) > 0
        self._question_matrix = question_matrix  # for confusions()
        self._classifier_t, self._bias = self._train_classifiers(question_matrix, answer_matrix, centroids)

    def _train_classifiers(self, questions, answers, centroids):
        """One logistic regression per entry, against its nearest entries and a sample of the rest.

        Learns which words tell an entry from its neighbours ("trả hàng" vs "hoàn tiền")
        rather than matching on filler words. Each entry's problem has a bounded size
        (own rows, its NEIGHBOURS closest entries, a fixed sample of others), so training
        grows linearly with the FAQ; balanced class weights keep an entry with three
        questions from being outvoted by its neighbours' thirty.
        """
        n = len(self.entries)
        if n < 2:
            return None, None
        rows = sparse.vstack([questions, answers], format="csr")
        owner = np.concatenate([self._owner, self._answer_owner])
        weight = np.concatenate([np.ones(len(self._owner)), np.full(len(self._answer_owner), ANSWER_ROW_WEIGHT)])
        order = np.argsort(owner, kind="stable")
        rows, owner, weight = rows[order], owner[order], weight[order]
        starts = np.searchsorted(owner, np.arange(n + 1))
        closeness = (centroids @ centroids.T).toarray()
        np.fill_diagonal(closeness, -1.0)
        random = np.random.RandomState(0)
        data, indices, indptr, bias = [], [], [0], np.zeros(n)
        for c in range(n):
            near = np.argsort(-closeness[c])[:NEIGHBOURS]
            picked = [np.arange(starts[c], starts[c + 1])] + [np.arange(starts[o], starts[o + 1]) for o in near]
            chosen = np.concatenate(picked)
            others = np.setdiff1d(random.randint(0, rows.shape[0], OTHERS_SAMPLE), chosen)
            chosen = np.concatenate([chosen, others])
            x = rows[chosen]
            y = (owner[chosen] == c).astype(int)
            columns = np.unique(x.indices)
            model = LogisticRegression(C=CLASSIFIER_C, solver="liblinear", class_weight="balanced")
            model.fit(x[:, columns], y, sample_weight=weight[chosen])
            coef = model.coef_[0]
            keep = np.abs(coef) > 1e-4
            data.append(coef[keep].astype(np.float32))
            indices.append(columns[keep])
            indptr.append(indptr[-1] + int(keep.sum()))
            bias[c] = model.intercept_[0]
        matrix = sparse.csr_matrix((np.concatenate(data), np.concatenate(indices), np.array(indptr)),
                                   shape=(n, rows.shape[1]))
        return matrix.T.tocsr(), bias

    def classifier_probabilities(self, query) -> np.ndarray:
        margins = (query @ self._classifier_t).toarray().ravel() + self._bias
        return 1.0 / (1.0 + np.exp(-margins))

    def _vectorize(self, analysed: Sequence[Tuple[Sequence[str], Sequence[str]]]) -> sparse.csr_matrix:
        words = self._words.matrix([w for w, _ in analysed])
        chars = self._chars.matrix([c for _, c in analysed])
        combined = sparse.hstack([words * WORD_BLOCK, chars * (1.0 - WORD_BLOCK)], format="csr")
        return _normalize_rows(combined)

    def _segment_max(self, values: np.ndarray, starts: np.ndarray, present: np.ndarray) -> np.ndarray:
        result = np.zeros(len(self.entries))
        # A sentinel after the last row keeps every start a valid index, even for trailing empty entries.
        maxima = np.maximum.reduceat(np.append(values, -np.inf), starts)
        result[present] = maxima[present]
        return result

    def similarities(self, query: sparse.csr_matrix) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per entry: (closest question, centroid, answer) cosine similarities."""
        neighbours = self._segment_max((query @ self._questions_t).toarray().ravel(), self._starts, self._has_questions)
        centroids = (query @ self._centroids_t).toarray().ravel()
        answers = self._segment_max((query @ self._answers_t).toarray().ravel(), self._answer_starts, self._has_answers)
        return neighbours, centroids, answers

    def blended(self, text: str) -> np.ndarray:
        """Per entry, the blend of the three similarities and the entry's classifier (0 to 1)."""
        if self._empty or not text.strip():
            return np.zeros(len(self.entries))
        query = self._vectorize([self._features(text)])
        if query.nnz == 0:
            return np.zeros(len(self.entries))
        neighbours, centroids, answers = self.similarities(query)
        similarity = NEIGHBOUR_WEIGHT * neighbours + CENTROID_WEIGHT * centroids + ANSWER_WEIGHT * answers
        if self._classifier_t is None:
            return similarity
        return (1.0 - CLASSIFIER_SHARE) * similarity + CLASSIFIER_SHARE * self.classifier_probabilities(query)

    def search(self, text: str, limit: int = 3) -> List[FaqMatch]:
        blend = self.blended(text)
        if not len(blend) or blend.max() <= 0:
            return []
        exp = np.exp((blend - blend.max()) / TEMPERATURE)
        probabilities = exp / exp.sum()
        top = np.argpartition(-blend, limit)[:limit] if len(blend) > limit else np.arange(len(blend))
        top = top[np.argsort(-blend[top], kind="stable")]
        return [FaqMatch(self.entries[i], float(probabilities[i]), float(blend[i])) for i in top if blend[i] > 0]

    def confusions(self, min_similarity: float) -> List[tuple]:
        """Example questions that are closer to another entry than to their own.

        Returns (entry, question, other_entry, similarity) for each question
        whose closest example question (itself left out) belongs to another
        entry with a similarity of at least `min_similarity`. Computed in
        blocks of rows, so the memory stays bounded for a large FAQ.
        """
        if self._empty:
            return []
        questions = [q for e in self.entries for _, q in e.question_lines()]
        matrix = self._question_matrix
        found = []
        block = 512
        for start in range(0, matrix.shape[0], block):
            rows = (matrix[start:start + block] @ self._questions_t).toarray()
            for offset, sims in enumerate(rows):
                row = start + offset
                sims[row] = -1.0
                owner = self._owner[row]
                entry_scores = self._segment_max(sims, self._starts, self._has_questions)
                entry_scores[~self._has_questions] = -1.0
                own = entry_scores[owner]
                entry_scores[owner] = -1.0
                other = int(np.argmax(entry_scores))
                if entry_scores[other] >= min_similarity and entry_scores[other] > own:
                    found.append((self.entries[owner], questions[row], self.entries[other], float(entry_scores[other])))
        return found
