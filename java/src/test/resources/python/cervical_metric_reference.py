"""An independent reference for org.spinekit.cervical.CervicalMetric (the RSNA 2022 metric).

usage: cervical_metric_reference.py TRUTH.csv SUBMISSION.csv EPS study|row

TRUTH.csv is train.csv (StudyInstanceUID,patient_overall,C1,...,C7), SUBMISSION.csv a
submission (row_id,fractured) with one row per study and column. Prints, one per line:

    score <value>
    logloss <column> <value>      unweighted mean clipped log loss of each column
    auc <column> <value>          ROC AUC of each column, NaN with one class only
    auc vertebra <value>          ROC AUC of every (study, C1..C7) row pooled
    auc_checked_with <names>      the AUC implementations that agreed, joined by +

Values are Python reprs (full precision). The log loss is written out in numpy from the
definition (weights: patient_overall 7 negative / 14 positive, vertebrae 1 / 2; predictions
clipped to [eps, 1 - eps]); "study" averages each study's weighted mean over the studies,
"row" takes one weighted mean over all rows (numpy.average with weights). The AUC is the
Mann-Whitney statistic from mid-ranks, in numpy; when scipy (mannwhitneyu) or scikit-learn
(roc_auc_score) can be imported, each is computed too and must agree to 1e-12.
"""
import csv
import math
import sys

import numpy as np

COLUMNS = ["patient_overall"] + ["C%d" % k for k in range(1, 8)]
NEGATIVE = np.array([7.0] + [1.0] * 7)
POSITIVE = np.array([14.0] + [2.0] * 7)


def read_truth(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    studies = [r["StudyInstanceUID"] for r in rows]
    labels = np.array([[int(r[c]) for c in COLUMNS] for r in rows], dtype=np.float64)
    return studies, labels


def read_submission(path, studies):
    with open(path, newline="") as f:
        by_id = {r["row_id"]: float(r["fractured"]) for r in csv.DictReader(f)}
    probs = np.array([[by_id["%s_%s" % (s, c)] for c in COLUMNS] for s in studies])
    if probs.size != len(by_id):
        sys.exit("submission has %d rows, expected %d" % (len(by_id), probs.size))
    return probs


def auc_midranks(y, s):
    """(rank sum of the positives - its least possible value) / (positives * negatives)."""
    y = np.asarray(y, dtype=bool)
    s = np.asarray(s, dtype=np.float64)
    pos = int(y.sum())
    neg = y.size - pos
    if pos == 0 or neg == 0:
        return math.nan
    order = np.argsort(s, kind="mergesort")
    values, first, counts = np.unique(s[order], return_index=True, return_counts=True)
    # ranks first+1 .. first+count share their mean
    ranks = np.empty(s.size)
    ranks[order] = np.repeat(first + (counts + 1) / 2.0, counts)
    return (ranks[y].sum() - pos * (pos + 1) / 2.0) / (pos * neg)


def other_aucs():
    """The other AUC implementations that can be imported, by name."""
    found = {}
    try:
        import scipy
        from scipy.stats import mannwhitneyu

        # before 1.7 the statistic of a two-sided test was min(U1, U2), not U1
        if tuple(int(v) for v in scipy.__version__.split(".")[:2]) < (1, 7):
            raise ImportError("scipy " + scipy.__version__)

        def scipy_auc(y, s):
            y = np.asarray(y, dtype=bool)
            u = mannwhitneyu(s[y], s[~y], alternative="two-sided").statistic
            return u / (y.sum() * (~y).sum())

        found["scipy"] = scipy_auc
    except ImportError:
        pass
    try:
        from sklearn.metrics import roc_auc_score

        found["sklearn"] = lambda y, s: roc_auc_score(np.asarray(y, dtype=int), s)
    except ImportError:
        pass
    return found


def auc(y, s, others):
    a = auc_midranks(y, s)
    if not math.isnan(a):
        for name, fn in others.items():
            b = float(fn(y, s))
            if abs(a - b) > 1e-12:
                sys.exit("AUC: numpy mid-ranks %r, %s %r" % (a, name, b))
    return a


def main():
    truth, submission, eps, mode = sys.argv[1:5]
    eps = float(eps)
    studies, y = read_truth(truth)
    p = read_submission(submission, studies)

    q = np.clip(p, eps, 1 - eps)
    loss = -(y * np.log(q) + (1 - y) * np.log(1 - q))
    w = np.where(y == 1, POSITIVE, NEGATIVE)
    if mode == "study":
        score = np.mean([np.average(loss[i], weights=w[i]) for i in range(len(studies))])
    elif mode == "row":
        score = np.average(loss.ravel(), weights=w.ravel())
    else:
        sys.exit("mode: expected study or row, got %r" % mode)

    others = other_aucs()
    print("score %r" % float(score))
    for k, c in enumerate(COLUMNS):
        print("logloss %s %r" % (c, float(loss[:, k].mean())))
    for k, c in enumerate(COLUMNS):
        print("auc %s %r" % (c, float(auc(y[:, k], p[:, k], others))))
    print("auc vertebra %r" % float(auc(y[:, 1:].ravel(), p[:, 1:].ravel(), others)))
    print("auc_checked_with %s" % "+".join(["numpy"] + sorted(others)))


if __name__ == "__main__":
    main()
