"""The downstream proxy model: multinomial naive Bayes over hashed n-grams of the input.

# DEVIATION: [R] the paper fine-tunes LLMs and judges answers pairwise; we train a model that fits in
# milliseconds (so the 65-strategy oracle is affordable) and score exact answers on a clean held-out
# split. Like an SFT model, it learns whatever the processed rows say: a wrong or marked-up answer
# becomes a class it predicts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer

FEATURES: dict[str, dict[str, Any]] = {
    "char": dict(analyzer="char_wb", ngram_range=(3, 5)),
    "word": dict(analyzer="word", ngram_range=(1, 2), lowercase=True),
}


class Featurizer:
    """Hashed n-gram counts (stateless: no vocabulary to fit, so every worker builds the same
    features), memoised per text: the 65 strategies of a search see the same strings again and again."""

    def __init__(self, kind: str, n_features: int):
        self.vec = HashingVectorizer(n_features=n_features, alternate_sign=False, norm=None, **FEATURES[kind])
        self.n_features = n_features
        self.memo: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def __call__(self, texts: list[str]) -> sp.csr_matrix:
        new = list(dict.fromkeys(t for t in texts if t not in self.memo))
        if new:
            X = self.vec.transform(new).tocsr()
            for i, text in enumerate(new):
                row = slice(X.indptr[i], X.indptr[i + 1])
                self.memo[text] = (X.indices[row].copy(), X.data[row].copy())
        rows = [self.memo[t] for t in texts]
        indptr = np.concatenate([[0], np.cumsum([len(r[0]) for r in rows])])
        indices = np.concatenate([r[0] for r in rows]) if rows else np.array([], dtype=np.int32)
        data = np.concatenate([r[1] for r in rows]) if rows else np.array([])
        return sp.csr_matrix((data, indices, indptr), shape=(len(texts), self.n_features))


class NaiveBayes:
    """Multinomial NB with Laplace-style smoothing `alpha`; log-likelihoods from the sparse class-count
    matrix C: log p(f|c) = log(C_cf + alpha) - log(N_c + alpha V), computed as
    log alpha + log1p(C_cf / alpha) - log(N_c + alpha V) so only non-zero counts are stored."""

    def __init__(self, alpha: float, n_features: int):
        self.alpha, self.n_features = alpha, n_features

    def fit(self, X: sp.csr_matrix, labels: list[str]) -> NaiveBayes:
        self.classes, y = np.unique(np.asarray(labels, dtype=object), return_inverse=True)
        onehot = sp.csr_matrix((np.ones(len(y)), (y, np.arange(len(y)))), shape=(len(self.classes), len(y)))
        counts = (onehot @ X).tocsr()
        self.log_prior = np.log(np.bincount(y, minlength=len(self.classes)) / len(y))
        self.log_norm = np.log(np.asarray(counts.sum(axis=1)).ravel() + self.alpha * self.n_features)
        self.log_ratio = counts.copy()
        self.log_ratio.data = np.log1p(self.log_ratio.data / self.alpha)
        return self

    def joint_log_likelihood(self, X: sp.csr_matrix) -> np.ndarray:
        """(rows, classes) log p(x, c) up to a per-row constant."""
        length = np.asarray(X.sum(axis=1))
        scores = np.asarray((X @ self.log_ratio.T).todense())
        return scores + length * (np.log(self.alpha) - self.log_norm[None, :]) + self.log_prior[None, :]

    def predict(self, X: sp.csr_matrix) -> np.ndarray:
        return self.classes[np.argmax(self.joint_log_likelihood(X), axis=1)]

    def label_log_proba(self, X: sp.csr_matrix, labels: list[str]) -> np.ndarray:
        """log p(label | x) per row; -inf for a label the model never saw."""
        joint = self.joint_log_likelihood(X)
        joint -= joint.max(axis=1, keepdims=True)
        log_post = joint - np.log(np.exp(joint).sum(axis=1, keepdims=True))
        index = {c: i for i, c in enumerate(self.classes)}
        return np.array([log_post[r, index[y]] if y in index else -np.inf for r, y in enumerate(labels)])


class ProxyModel:
    """Features + NB: `fit(inputs, outputs)`, `correct(inputs, outputs)` -> per-item 0/1."""

    def __init__(self, featurizer: Featurizer, alpha: float):
        self.vec = featurizer
        self.nb = NaiveBayes(alpha, featurizer.n_features)

    def fit(self, inputs: list[str], outputs: list[str]) -> ProxyModel:
        self.nb.fit(self.vec(inputs), outputs)
        return self

    def correct(self, inputs: list[str], outputs: list[str]) -> np.ndarray:
        return (self.nb.predict(self.vec(inputs)) == np.asarray(outputs, dtype=object)).astype(int)


def neighbour_agreement(inputs: list[str], outputs: list[str], neighbours: int) -> np.ndarray:
    """Leave-one-out confidence of a k-nearest-neighbour model in each row's own output: the
    similarity-weighted share of the row's `neighbours` most similar other inputs (TF-IDF of
    character n-grams, so shared template words weigh little) that carry the same output. A wrong
    answer disagrees with the other rows about the same subject."""
    tfidf = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    X = tfidf.fit_transform([x or " " for x in inputs])
    S = (X @ X.T).toarray()
    np.fill_diagonal(S, -1.0)
    k = min(neighbours, len(inputs) - 1)
    if k < 1:
        return np.ones(len(inputs))
    near = np.argpartition(-S, k - 1, axis=1)[:, :k]
    weights = np.clip(np.take_along_axis(S, near, axis=1), 0.0, None) + 1e-12
    labels = np.asarray(outputs, dtype=object)
    same = labels[near] == labels[:, None]
    return (weights * same).sum(axis=1) / weights.sum(axis=1)
