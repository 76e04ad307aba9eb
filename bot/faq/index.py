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
vs "hoàn tiền"). Similarities and classifier, blended, become a probability
over entries with a softmax (`score`); the similarities alone say whether the
question is an FAQ question at all (`similarity`). Building is linear in the number of questions (no pairwise
step, no one-vs-rest over the whole FAQ), and a question reads only the
postings of its own features.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

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
# Entries whose closest question is looked at, the best by everything else.
SHORTLIST = 50
# An entry with FEW_SHOT_QUESTIONS questions (2 vi + 1 en, as editors start one) uses these
# weights and boost; from FULL_ENTRY_QUESTIONS on, the ones above. Chosen by the few-shot
# cross-validation: the most found new-entry questions (62% -> 77% vi, 50% -> 64% en) for at
# most one point lost on the full entries' held-out questions (93.4% -> 92.4% vi).
FEW_SHOT_QUESTIONS = 3
FULL_ENTRY_QUESTIONS = 10
FEW_SHOT_NEIGHBOUR_WEIGHT = 0.4
FEW_SHOT_CENTROID_WEIGHT = 0.1
FEW_SHOT_ANSWER_WEIGHT = 0.5
FEW_SHOT_BOOST = 1.4
TEMPERATURE = 0.05
# How much the word block counts against the character block in a vector.
WORD_BLOCK = 0.6
# Each entry's classifier sees its own rows, its closest entries' rows and a sample of the rest.
NEIGHBOURS = 12
NEIGHBOUR_ROWS = 20
OTHERS_SAMPLE = 100
CLASSIFIER_C = 10.0
CLASSIFIER_TOL = 0.01
CLASSIFIER_MAX_ENTRIES = 100
# An answer (and each of its sentences) is a weaker example of its entry than a question.
ANSWER_ROW_WEIGHT = 0.5
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class FaqMatch:
    entry: FaqEntry
    score: float  # probability that the question is about this entry
    similarity: float  # blended similarity to the entry's questions and answer (0: nothing in common)


def word_features(text: str) -> List[str]:
    tokens = concept_text(text).split()
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


def _word_char_grams(token: str) -> List[str]:
    padded = f" {token} "
    size = len(padded)
    return [padded[i:i + n] for n in range(2, 6) for i in range(size - n + 1)]


def char_features(text: str) -> List[str]:
    return [gram for token in _WORD.findall(fold(text)) for gram in _word_char_grams(token)]


_EMPTY = np.zeros(0, dtype=np.int64)


class _Features:
    """Text → (word feature ids, char n-gram ids), with ids from vocabularies that only grow.

    Remembered per text (a rebuild after an editor's change re-analyses only the questions
    that changed) and, for character n-grams, per word (words repeat across thousands of
    questions). An index keeps the instance it was built with, so ids stay valid for it;
    when the vocabularies grow too large, `shared_features()` starts a new instance instead
    of clearing this one.
    """

    def __init__(self):
        self.words: Dict[str, int] = {}
        self.chars: Dict[str, int] = {}
        self._texts: Dict[str, Tuple[np.ndarray, np.ndarray]] = {}
        self._tokens: Dict[str, np.ndarray] = {}

    def size(self) -> int:
        return len(self.words) + len(self.chars) + len(self._texts)

    def _ids(self, vocabulary: Dict[str, int], features: Iterable[str], grow: bool) -> np.ndarray:
        if grow:
            ids = [vocabulary.setdefault(f, len(vocabulary)) for f in features]
        else:
            ids = [i for i in map(vocabulary.get, features) if i is not None]
        return np.array(ids, dtype=np.int64) if ids else _EMPTY

    def _token_ids(self, token: str, grow: bool) -> np.ndarray:
        found = self._tokens.get(token)
        if found is None:
            found = self._ids(self.chars, _word_char_grams(token), grow)
            if grow:
                self._tokens[token] = found
        return found

    def __call__(self, text: str, grow: bool = True) -> Tuple[np.ndarray, np.ndarray]:
        found = self._texts.get(text)
        if found is None:
            words = self._ids(self.words, word_features(text), grow)
            tokens = [self._token_ids(t, grow) for t in _WORD.findall(fold(text))]
            found = (words, np.concatenate(tokens) if tokens else _EMPTY)
            if grow:
                self._texts[text] = found
        return found

    def query(self, text: str) -> Tuple[np.ndarray, np.ndarray]:
        """A customer's question: known features only, nothing remembered (no growth from traffic)."""
        return self(text, grow=False)


FEATURES_LIMIT = 2_000_000
_shared = _Features()
_shared_lock = threading.Lock()


def shared_features() -> _Features:
    global _shared
    with _shared_lock:
        if _shared.size() > FEATURES_LIMIT:
            _shared = _Features()
        return _shared


class _Space:
    """One feature block (words or chars): its columns and per-entry inverse document frequencies."""

    def __init__(self, documents: Sequence[np.ndarray], owners: np.ndarray, entry_count: int, vocabulary_size: int):
        lengths = np.fromiter((len(d) for d in documents), dtype=np.int64, count=len(documents))
        ids = np.concatenate(documents) if len(documents) else _EMPTY
        # Ids are below vocabulary_size: marking and counting, not sorting millions of ids.
        present = np.zeros(vocabulary_size, dtype=bool)
        present[ids] = True
        used = np.flatnonzero(present)
        # Global id → column of this index (-1: a feature this FAQ does not use).
        self.column = np.full(vocabulary_size, -1, dtype=np.int64)
        self.column[used] = np.arange(len(used))
        # Document frequency over entries: one (entry, feature) cell per pair, however often it occurs.
        entry_of = np.repeat(owners, lengths)
        cells = sparse.csr_matrix((np.ones(len(ids), dtype=np.float32), (entry_of, self.column[ids])),
                                  shape=(entry_count, max(len(used), 1)))
        df = np.bincount(cells.indices, minlength=len(used))[:len(used)]
        self.size = len(used)
        self.df = df
        self.idf = (np.log((1.0 + entry_count) / (1.0 + df)) + 1.0).astype(np.float32)

    def matrix(self, documents: Sequence[np.ndarray]) -> sparse.csr_matrix:
        """Sublinear tf × idf, each row of unit length."""
        lengths = np.fromiter((len(d) for d in documents), dtype=np.int64, count=len(documents))
        ids = np.concatenate(documents) if len(documents) else _EMPTY
        columns = self.column[np.minimum(ids, len(self.column) - 1)] if len(self.column) else ids
        known = (ids < len(self.column)) & (columns >= 0)
        rows = np.repeat(np.arange(len(documents)), lengths)[known]
        counts = sparse.csr_matrix((np.ones(int(known.sum()), dtype=np.float32), (rows, columns[known])),
                                   shape=(len(documents), self.size))
        counts.sum_duplicates()
        counts.data = (1.0 + np.log(counts.data)) * self.idf[counts.indices]
        return _normalize_rows(counts)


class _Postings:
    """A matrix kept by feature (rows of its transpose): a question reads only the entries of
    its own features, with a few numpy calls (scipy's sparse products cost more in overhead
    than in arithmetic for a single question)."""

    def __init__(self, matrix: sparse.csr_matrix):
        transposed = matrix.T.tocsr()
        self.indptr = transposed.indptr.astype(np.int64)
        self.indices = transposed.indices
        self.data = transposed.data
        self.rows = matrix.shape[0]

    def dot(self, columns: np.ndarray, values: np.ndarray) -> np.ndarray:
        starts = self.indptr[columns]
        lengths = self.indptr[columns + 1] - starts
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(self.rows)
        positions = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(total)
        return np.bincount(self.indices[positions], weights=self.data[positions] * np.repeat(values, lengths),
                           minlength=self.rows)


def _gather(indptr: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Positions of rows starts[i]..ends[i] of a CSR matrix, concatenated, and each range's length."""
    begin, finish = indptr[starts], indptr[ends]
    lengths = finish - begin
    total = int(lengths.sum())
    return np.repeat(begin - (np.cumsum(lengths) - lengths), lengths) + np.arange(total), lengths


def _normalize_rows(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix, dtype=np.float32)


def _entry_weights(question_counts: np.ndarray) -> np.ndarray:
    """Per entry: (closest question, centre, answer) weights and a boost of its blend.

    An entry with few questions is judged more by its closest question than by their centre
    (two or three questions have no meaningful centre), and its blend is raised (fewer
    questions, fewer chances to match). Full weights from FULL_ENTRY_QUESTIONS questions on,
    few-shot weights at FEW_SHOT_QUESTIONS, linear in between.
    """
    t = np.clip((FULL_ENTRY_QUESTIONS - question_counts) / (FULL_ENTRY_QUESTIONS - FEW_SHOT_QUESTIONS), 0.0, 1.0)
    full = np.array([NEIGHBOUR_WEIGHT, CENTROID_WEIGHT, ANSWER_WEIGHT, 1.0])
    few = np.array([FEW_SHOT_NEIGHBOUR_WEIGHT, FEW_SHOT_CENTROID_WEIGHT, FEW_SHOT_ANSWER_WEIGHT, FEW_SHOT_BOOST])
    return (1.0 - t)[:, None] * full + t[:, None] * few


class FaqIndex:
    def __init__(self, entries: Sequence[FaqEntry], features: Optional[_Features] = None):
        self.entries = list(entries)
        self._features = features or shared_features()
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
        all_owners = np.array(owners + answer_owner, dtype=np.int64)
        n = len(self.entries)
        self._words = _Space([w for w, _ in analysed_q + analysed_a], all_owners, n, len(self._features.words))
        self._chars = _Space([c for _, c in analysed_q + analysed_a], all_owners, n, len(self._features.chars))
        question_matrix = self._vectorize(analysed_q)
        answer_matrix = self._vectorize(analysed_a)
        membership = sparse.csr_matrix(
            (np.ones(len(owners), dtype=np.float32), (self._owner, np.arange(len(owners)))), shape=(n, len(owners)))
        centroids = _normalize_rows(membership @ question_matrix)
        self._questions_t = _Postings(question_matrix)
        self._centroids_t = _Postings(centroids)
        self._answers_t = _Postings(answer_matrix)
        # Questions are grouped by entry, so the best question of each entry is a segment maximum.
        self._starts = np.searchsorted(self._owner, np.arange(n))
        self._ends = np.searchsorted(self._owner, np.arange(n), side="right")
        self._question_indptr = question_matrix.indptr.astype(np.int64)
        self._has_questions = np.bincount(self._owner, minlength=n) > 0
        self._entry_weights = _entry_weights(np.bincount(self._owner, minlength=n))
        self._few_questions = np.flatnonzero(self._entry_weights[:, 3] > 1.0)
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
        # Features found in more than CLASSIFIER_MAX_ENTRIES entries cannot tell an entry from its
        # neighbours; in a large FAQ they are most of each row, and of the training time.
        informative = np.concatenate([self._words.df, self._chars.df]) <= CLASSIFIER_MAX_ENTRIES
        if not informative.all():
            rows = sparse.csr_matrix(rows @ sparse.diags(informative.astype(np.float32)))
            rows.eliminate_zeros()
        owner = np.concatenate([self._owner, self._answer_owner])
        weight = np.concatenate([np.ones(len(self._owner)), np.full(len(self._answer_owner), ANSWER_ROW_WEIGHT)])
        order = np.argsort(owner, kind="stable")
        rows, owner, weight = rows[order], owner[order], weight[order]
        starts = np.searchsorted(owner, np.arange(n + 1))
        # Nearest entries by their questions' words (the character block would cost more than
        # the whole training at 1,000 entries, and names the same neighbours).
        word_centroids = _normalize_rows(centroids[:, :self._words.size])
        closeness = (word_centroids @ word_centroids.T).toarray()
        np.fill_diagonal(closeness, -np.inf)
        k = min(NEIGHBOURS, n - 1)
        nearest = np.argpartition(-closeness, k - 1, axis=1)[:, :k]
        random = np.random.RandomState(0)
        in_problem = np.zeros(rows.shape[0], dtype=bool)
        in_columns = np.zeros(rows.shape[1], dtype=bool)
        data, indices, indptr, bias = [], [], [0], np.zeros(n)
        for c in range(n):
            picked = [np.arange(starts[c], starts[c + 1])]
            for o in nearest[c]:
                theirs = np.arange(starts[o], starts[o + 1])
                picked.append(theirs if len(theirs) <= NEIGHBOUR_ROWS else random.choice(theirs, NEIGHBOUR_ROWS, replace=False))
            chosen = np.concatenate(picked)
            in_problem[chosen] = True
            others = random.randint(0, rows.shape[0], OTHERS_SAMPLE)
            others = np.unique(others[~in_problem[others]])
            in_problem[chosen] = False
            chosen = np.concatenate([chosen, others])
            x = rows[chosen]
            y = (owner[chosen] == c).astype(int)
            in_columns[x.indices] = True
            columns = np.flatnonzero(in_columns)
            in_columns[columns] = False
            # A loose tolerance: the ranking settles long before the optimum does.
            model = LogisticRegression(C=CLASSIFIER_C, solver="liblinear", class_weight="balanced", tol=CLASSIFIER_TOL)
            model.fit(x[:, columns], y, sample_weight=weight[chosen])
            coef = model.coef_[0]
            keep = np.abs(coef) > 1e-4
            data.append(coef[keep].astype(np.float32))
            indices.append(columns[keep])
            indptr.append(indptr[-1] + int(keep.sum()))
            bias[c] = model.intercept_[0]
        matrix = sparse.csr_matrix((np.concatenate(data), np.concatenate(indices), np.array(indptr)),
                                   shape=(n, rows.shape[1]))
        return _Postings(matrix), bias

    def classifier_probabilities(self, query: Tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        margins = self._classifier_t.dot(*query) + self._bias
        return 1.0 / (1.0 + np.exp(-margins))

    def query_vector(self, text: str) -> Tuple[np.ndarray, np.ndarray]:
        """(columns, values) of one question, as `_vectorize` would make its row, without scipy."""
        words, chars = self._features.query(text)
        columns, values = [], []
        for space, ids, offset, scale in ((self._words, words, 0, WORD_BLOCK),
                                          (self._chars, chars, self._words.size, 1.0 - WORD_BLOCK)):
            ids = ids[ids < len(space.column)]
            found = space.column[ids]
            found = found[found >= 0]
            if len(found):
                unique, counts = np.unique(found, return_counts=True)
                weights = (1.0 + np.log(counts)) * space.idf[unique]
                columns.append(unique + offset)
                values.append(weights * (scale / np.linalg.norm(weights)))
        if not columns:
            return _EMPTY, np.zeros(0)
        vector = np.concatenate(values)
        return np.concatenate(columns), vector / np.linalg.norm(vector)

    def _vectorize(self, analysed: Sequence[Tuple[np.ndarray, np.ndarray]]) -> sparse.csr_matrix:
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

    def _closest_questions(self, query: Tuple[np.ndarray, np.ndarray], entries: np.ndarray) -> np.ndarray:
        """Per entry, the similarity of its closest example question; computed for `entries` only
        (row by row: the postings of common character n-grams run through every question)."""
        result = np.zeros(len(self.entries))
        entries = entries[self._has_questions[entries]]
        if not len(entries):
            return result
        # Whichever reads less: the query's postings through all questions, or the entries' rows.
        through_postings = int((self._questions_t.indptr[query[0] + 1] - self._questions_t.indptr[query[0]]).sum())
        through_rows = int((self._question_indptr[self._ends[entries]] - self._question_indptr[self._starts[entries]]).sum())
        if through_postings <= through_rows:
            every = self._segment_max(self._questions_t.dot(*query), self._starts, self._has_questions)
            result[entries] = every[entries]
            return result
        matrix = self._question_matrix
        dense = np.zeros(matrix.shape[1])
        dense[query[0]] = query[1]
        rows, rows_per_entry = _gather(np.arange(len(self._owner) + 1), self._starts[entries], self._ends[entries])
        positions, row_lengths = _gather(self._question_indptr, rows, rows + 1)
        products = matrix.data[positions] * dense[matrix.indices[positions]]
        row_starts = np.cumsum(row_lengths) - row_lengths
        sums = np.add.reduceat(np.append(products, 0.0), row_starts)
        sums[row_lengths == 0] = 0.0
        result[entries] = np.maximum.reduceat(sums, np.cumsum(rows_per_entry) - rows_per_entry)
        return result

    def similarities(self, query: Tuple[np.ndarray, np.ndarray],
                     shortlist: Optional[np.ndarray] = None) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per entry: (closest question, centroid, answer) cosine similarities; the closest
        question only for the `shortlist` of entries when one is given."""
        centroids = self._centroids_t.dot(*query)
        answers = self._segment_max(self._answers_t.dot(*query), self._answer_starts, self._has_answers)
        entries = np.arange(len(self.entries)) if shortlist is None else shortlist
        return self._closest_questions(query, entries), centroids, answers

    def scores(self, text: str) -> Tuple[np.ndarray, np.ndarray]:
        """Per entry: (blend, similarity). The blend of the three similarities and the entry's
        classifier ranks the entries; the similarity alone (0 to 1) says how much the question
        has in common with an entry (a classifier says "rather this one than its neighbours",
        not "this is an FAQ question at all")."""
        zeros = np.zeros(len(self.entries))
        if self._empty or not text.strip():
            return zeros, zeros
        query = self.query_vector(text)
        if len(query[0]) == 0:
            return zeros, zeros
        centroids = self._centroids_t.dot(*query)
        answers = self._segment_max(self._answers_t.dot(*query), self._answer_starts, self._has_answers)
        weights = self._entry_weights
        similarity = weights[:, 1] * centroids + weights[:, 2] * answers
        share = 0.0 if self._classifier_t is None else CLASSIFIER_SHARE
        classifier = self.classifier_probabilities(query) if share else zeros
        # The closest question weighs least for full entries: it is computed for the leading
        # entries, and for every entry with few questions (there it weighs most).
        shortlist = np.argsort(-((1.0 - share) * similarity + share * classifier))[:SHORTLIST]
        shortlist = np.union1d(shortlist, self._few_questions)
        similarity = similarity + weights[:, 0] * self._closest_questions(query, shortlist)
        return (1.0 - share) * weights[:, 3] * similarity + share * classifier, similarity

    def blended(self, text: str) -> np.ndarray:
        return self.scores(text)[0]

    def search(self, text: str, limit: int = 3) -> List[FaqMatch]:
        blend, similarity = self.scores(text)
        if not len(blend) or similarity.max() <= 0:
            return []
        exp = np.exp((blend - blend.max()) / TEMPERATURE)
        probabilities = exp / exp.sum()
        top = np.argpartition(-blend, limit)[:limit] if len(blend) > limit else np.arange(len(blend))
        top = top[np.argsort(-blend[top], kind="stable")]
        return [FaqMatch(self.entries[i], float(probabilities[i]), float(similarity[i])) for i in top if similarity[i] > 0]

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
            rows = (matrix[start:start + block] @ matrix.T).toarray()
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
