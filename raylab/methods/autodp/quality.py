"""The two data-side accelerations: processing-target selection (PTS: a binary quality
classifier decides which rows the LLM operators touch) and distribution-preserving sampling (DPS:
the search runs on a stratified sample).

# DEVIATION: [R] the paper's classifier features, labels and sampler are not public. PTS here is a
# logistic regression on cheap quality features plus a kNN model's confidence in each output, trained
# on `accel.labelled` rows whose defect labels are known (a small hand-labelled seed set); its target
# is a content defect (html, garbage, truncated, wrong, missing input): exact and near copies are the
# cleaning team's job, not the LLM's. DPS stratifies by PTS flag x k-means cluster of TF-IDF + SVD
# embeddings and draws uniformly inside each stratum (largest-remainder allocation).
"""

from __future__ import annotations

import collections

import numpy as np
from scipy import stats
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from raylab.methods.autodp.data import Sample
from raylab.methods.autodp.model import neighbour_agreement
from raylab.methods.autodp.operators import TAG

CONTENT_DEFECTS = ("html", "garbage", "truncated", "wrong", "missing_input")


def defective(sample: Sample) -> bool:
    return sample.bad in CONTENT_DEFECTS


def quality_features(rows: list[Sample], neighbours: int = 3) -> np.ndarray:
    """Per row: special-character ratio, repeated-bigram ratio, markup, input words, output length,
    and the leave-one-out agreement of its output with its nearest rows' (a kNN model's confidence)."""
    plain = set(" .,;:?!'\"()-/")
    agreement = neighbour_agreement([s.input for s in rows], [s.output for s in rows], neighbours)
    features = []
    for s, agree in zip(rows, agreement):
        words = s.input.lower().split()
        bigrams = list(zip(words, words[1:]))
        features.append(
            [
                sum(not (c.isalnum() or c in plain) for c in s.input) / max(1, len(s.input)),
                1 - len(set(bigrams)) / len(bigrams) if bigrams else 0.0,
                float(bool(TAG.search(s.input) or TAG.search(s.output))),
                np.log1p(len(words)),
                np.log1p(len(s.output.strip())),
                agree,
            ]
        )
    return np.asarray(features)


def train_classifier(features: np.ndarray, labels: np.ndarray, labelled: int, seed: int):
    """Fit on `labelled` rows chosen at random; returns (model, indices of the labelled rows)."""
    chosen = np.random.default_rng(seed).choice(len(labels), min(labelled, len(labels)), replace=False)
    model = LogisticRegression(class_weight="balanced", max_iter=1000)
    scaler = StandardScaler().fit(features[chosen])
    model.fit(scaler.transform(features[chosen]), labels[chosen])
    return (lambda x: model.predict_proba(scaler.transform(x))[:, 1]), chosen


def precision_recall(flags: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    hits = float(np.sum(flags & labels))
    return hits / max(1, flags.sum()), hits / max(1, labels.sum())


def embeddings(rows: list[Sample], dims: int, seed: int) -> np.ndarray:
    """TF-IDF of input + output (word 1-2-grams) reduced by truncated SVD."""
    tfidf = TfidfVectorizer(ngram_range=(1, 2), min_df=1).fit_transform(
        [f"{s.input} {s.output}" for s in rows]
    )
    dims = max(1, min(dims, tfidf.shape[1] - 1))
    return TruncatedSVD(dims, random_state=seed).fit_transform(tfidf)


def stratified_sample(strata: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Indices of a sample that keeps each stratum's share (largest-remainder rounding), drawn
    uniformly inside each stratum; sorted, so the sample keeps the set's row order."""
    rng = np.random.default_rng(seed)
    groups = collections.defaultdict(list)
    for i, s in enumerate(strata):
        groups[s].append(i)
    keys = sorted(groups)
    quota = np.array([fraction * len(groups[k]) for k in keys])
    take = np.floor(quota).astype(int)
    extra = int(round(fraction * len(strata))) - take.sum()
    take[np.argsort(-(quota - take), kind="stable")[:extra]] += 1
    chosen = [rng.choice(groups[k], n, replace=False) for k, n in zip(keys, take) if n]
    return np.sort(np.concatenate(chosen)) if chosen else np.array([], dtype=int)


def dps_strata(rows: list[Sample], flags: np.ndarray, clusters: int, seed: int) -> np.ndarray:
    """Stratum of each row: PTS flag x k-means cluster of its embedding."""
    emb = embeddings(rows, 32, seed)
    labels = KMeans(clusters, n_init=3, random_state=seed).fit_predict(emb)
    return flags.astype(int) * clusters + labels


def fidelity(sample: list[Sample], full: list[Sample]) -> dict[str, float]:
    """DPS fidelity (claims dps_length, dps_bad_ratio): relative mean / median length error, length KS
    statistic, bad-ratio error (points) and the worst per-type bad-ratio error (points)."""
    length = lambda rows: np.array([len(s.input) + len(s.output) for s in rows])  # noqa: E731
    a, b = length(sample), length(full)
    bad = lambda rows, kind=None: np.mean([(s.bad == kind) if kind else bool(s.bad) for s in rows])  # noqa: E731
    kinds = {s.bad for s in full if s.bad}
    return {
        "mean_len_err": abs(a.mean() / b.mean() - 1),
        "median_len_err": abs(np.median(a) / np.median(b) - 1),
        "len_ks": float(stats.ks_2samp(a, b).statistic),
        "bad_ratio_err": 100 * abs(bad(sample) - bad(full)),
        "type_ratio_err": 100 * max((abs(bad(sample, k) - bad(full, k)) for k in kinds), default=0.0),
    }
