"""An independent reference for org.spinekit.lumbar.LumbarMetric (the RSNA 2024 metric).

usage: lumbar_metric_reference.py TRAIN.csv SUBMISSION.csv EPS

TRAIN.csv is train.csv (study_id and 25 columns <condition>_<level> holding Normal/Mild,
Moderate, Severe or nothing), SUBMISSION.csv a submission (row_id,normal_mild,moderate,severe).
Prints, one per line (values are Python reprs, full precision; nan when undefined):

    score <value>
    part <name> <value>           spinal, foraminal, subarticular, any_severe_spinal
    rows <name> <count>           rows scored per part (studies for any_severe_spinal)
    unscored <count>              blank grades of TRAIN.csv, not scored
    column <column> <value>       weighted log loss of each of the 25 columns
    baseline <value>              the score of predicting each column's grade shares

Definition, written out in numpy: a row is a graded (study, column); its weight is 1, 2 or 4
for a true Normal/Mild, Moderate or Severe. Its probabilities are clipped to [eps, 1 - eps],
divided by their sum, and its loss is -log of the true grade's share. A part is
average(loss, weights) over the rows of its conditions. any_severe_spinal takes, per study
with a graded spinal level, label = any graded spinal level Severe, weight = the largest
weight of those rows, p = the largest raw severe value among them; p is clipped, the pair
[1 - p, p] divided by its sum, and the loss is the weighted average over studies. The score
is the mean of the four parts. A graded row without a prediction, or a prediction of a study
not in TRAIN.csv, stops with an error.
"""
import csv
import sys

import numpy as np

CONDITIONS = [
    "spinal_canal_stenosis",
    "left_neural_foraminal_narrowing",
    "right_neural_foraminal_narrowing",
    "left_subarticular_stenosis",
    "right_subarticular_stenosis",
]
LEVELS = ["l1_l2", "l2_l3", "l3_l4", "l4_l5", "l5_s1"]
COLUMNS = ["%s_%s" % (c, l) for c in CONDITIONS for l in LEVELS]
GRADE = {"Normal/Mild": 0, "Moderate": 1, "Severe": 2}
WEIGHT = np.array([1.0, 2.0, 4.0])
PARTS = ["spinal", "foraminal", "subarticular"]


def part_of(column):
    for p in PARTS:
        if p in column:
            return p
    raise ValueError(column)


def read_truth(path):
    """(study ids as strings, grades [studies, 25] with -1 for blank)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    ids = [r["study_id"] for r in rows]
    g = np.array([[GRADE.get(r[c], -1) if r[c] else -1 for c in COLUMNS] for r in rows])
    for r in rows:
        for c in COLUMNS:
            if r[c] and r[c] not in GRADE:
                sys.exit("unknown grade %r" % r[c])
    return ids, g.reshape(len(ids), len(COLUMNS))


def read_submission(path):
    with open(path, newline="") as f:
        return {
            r["row_id"]: [float(r["normal_mild"]), float(r["moderate"]), float(r["severe"])]
            for r in csv.DictReader(f)
        }


def evaluate(ids, grades, probs, eps):
    """probs: [studies, 25, 3] (NaN where no row). Returns a dict of the printed values."""
    scored = grades >= 0
    s_idx, c_idx = np.nonzero(scored)
    y = grades[s_idx, c_idx]
    p = probs[s_idx, c_idx, :]
    if np.isnan(p).any():
        sys.exit("a graded row has no prediction")
    w = WEIGHT[y]
    q = np.clip(p, eps, 1 - eps)
    q = q / q.sum(axis=1, keepdims=True)
    loss = -np.log(q[np.arange(len(y)), y])
    part = np.array([part_of(COLUMNS[c]) for c in c_idx])

    out = {"unscored": int((~scored).sum())}
    parts = []
    for name in PARTS:
        m = part == name
        if not m.any():
            sys.exit("no %s row has a grade" % name)
        parts.append(float(np.average(loss[m], weights=w[m])))
        out["part " + name] = parts[-1]
        out["rows " + name] = int(m.sum())
    for k, col in enumerate(COLUMNS):
        m = c_idx == k
        out["column " + col] = float(np.average(loss[m], weights=w[m])) if m.any() else float("nan")

    # any_severe_spinal over the studies with a graded spinal level
    labels, weights, preds = [], [], []
    spinal = part == "spinal"
    for s in np.unique(s_idx[spinal]):
        m = spinal & (s_idx == s)
        labels.append(float((y[m] == 2).any()))
        weights.append(w[m].max())
        preds.append(p[m, 2].max())
    labels, weights, preds = np.array(labels), np.array(weights), np.array(preds)
    b = np.clip(preds, eps, 1 - eps)
    pair = np.stack([1 - b, b], axis=1)
    pair = pair / pair.sum(axis=1, keepdims=True)
    bl = -np.log(np.where(labels == 1, pair[:, 1], pair[:, 0]))
    parts.append(float(np.average(bl, weights=weights)))
    out["part any_severe_spinal"] = parts[-1]
    out["rows any_severe_spinal"] = len(labels)
    out["score"] = float(np.mean(parts))
    return out


def main():
    truth, submission, eps = sys.argv[1:4]
    eps = float(eps)
    ids, grades = read_truth(truth)
    rows = read_submission(submission)
    known = {i: k for k, i in enumerate(ids)}
    probs = np.full((len(ids), len(COLUMNS), 3), np.nan)
    for row_id, v in rows.items():
        study, column = row_id.split("_", 1)
        if study not in known or column not in COLUMNS:
            sys.exit("unknown row %r" % row_id)
        if not all(np.isfinite(v)) or min(v) < 0:
            sys.exit("bad probabilities in row %r" % row_id)
        probs[known[study], COLUMNS.index(column)] = v
    out = evaluate(ids, grades, probs, eps)

    # the baseline: each column's grade shares among its graded rows, for every study
    const = np.full((len(ids), len(COLUMNS), 3), 1.0 / 3)
    for k in range(len(COLUMNS)):
        g = grades[:, k]
        if (g >= 0).any():
            shares = np.bincount(g[g >= 0], minlength=3) / float((g >= 0).sum())
            const[:, k, :] = shares
    out["baseline"] = evaluate(ids, grades, const, eps)["score"]

    print("score %r" % out.pop("score"))
    for key in sorted(out):
        print("%s %r" % (key, out[key]))


if __name__ == "__main__":
    main()
