"""The proxy model's maths against scikit-learn's multinomial naive Bayes."""

import numpy as np
import scipy.sparse as sp
from sklearn.naive_bayes import MultinomialNB

from raylab.methods.autodp.model import Featurizer, NaiveBayes, ProxyModel


def test_sparse_naive_bayes_equals_sklearn():
    """Same smoothing, same prior: log-posteriors agree to float rounding (1e-9)."""
    rng = np.random.default_rng(0)
    X = sp.csr_matrix(rng.poisson(0.3, (40, 25)).astype(float))
    y = rng.choice(["a", "b", "c"], 40)
    ours = NaiveBayes(alpha=0.5, n_features=25).fit(X, list(y))
    ref = MultinomialNB(alpha=0.5).fit(X, y)
    joint = ours.joint_log_likelihood(X)
    posterior = joint - np.logaddexp.reduce(joint, axis=1, keepdims=True)
    np.testing.assert_allclose(posterior, ref.predict_log_proba(X), atol=1e-9)
    np.testing.assert_allclose(
        ours.label_log_proba(X, list(y)),
        ref.predict_log_proba(X)[np.arange(40), np.searchsorted(ref.classes_, y)],
        atol=1e-9,
    )
    assert ours.label_log_proba(X[:1], ["never seen"])[0] == -np.inf


def test_featurizer_memo_returns_the_vectorizer_counts():
    texts = ["What is the capital of Peru?", "Tell me the plural of cat.", "What is the capital of Peru?"]
    features = Featurizer("char", 2**12)
    assert (features(texts) != features.vec.transform(texts)).nnz == 0
    assert len(features.memo) == 2


def test_the_model_learns_a_mapping_and_scores_items():
    model = ProxyModel(Featurizer("char", 2**14), alpha=0.01).fit(
        ["capital of Peru", "capital of France", "plural of cat"], ["Lima", "Paris", "cats"]
    )
    assert model.correct(["the capital of Peru?", "plural of cat?"], ["Lima", "dogs"]).tolist() == [1, 0]
