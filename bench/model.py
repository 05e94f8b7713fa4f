"""The Python side of bench/model.sh: the same work as `lunli audit model`, with onnxruntime
running the same ONNX file and numpy/pandas doing the rest.

    python bench/model.py predict MODEL.onnx DATA.csv
    python bench/model.py audit MODEL.onnx DATA.csv   # label income, sensitive sex,race, repeats 5

`audit` does what lunli's audit does, pass for pass: the model on the data as it is, on six
perturbed copies (noise 0.1/0.25/0.5 std, 10 % category swaps, missing values, out-of-range
values), with sex and race set to each of their values (counterfactual), and with each of the 14
features shuffled 5 times (permutation importance, sklearn's scheme); then accuracy, flip rates
and the per-group rates with pandas. (Attributions are left out on both sides: lunli's bench runs
without --explain-rows.)
"""

import sys
import time

import numpy as np
import onnxruntime as ort
import pandas as pd

NUMERIC = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"]


def feeds(session, frame):
    out = {}
    for i in session.get_inputs():
        if i.type == "tensor(string)":
            out[i.name] = frame[[i.name]].to_numpy(dtype=object)
        else:
            out[i.name] = frame[[i.name]].to_numpy(np.float32)
    return out


def run(session, frame):
    label, proba = session.run(None, feeds(session, frame))
    return label.astype(bool), proba[:, 1]


def main():
    mode, model, data = sys.argv[1:4]
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    start = time.perf_counter()
    frame = pd.read_csv(data, dtype={c: str for c in ["workclass", "education", "marital_status", "occupation",
                                                      "relationship", "race", "sex", "native_country"]})
    read = time.perf_counter() - start
    if mode == "predict":
        start = time.perf_counter()
        _, proba = run(session, frame)
        seconds = time.perf_counter() - start
        print(f"{len(frame)} rows {seconds:.3f} s {len(frame) / seconds:.0f} predictions/s (read {read:.2f} s)")
        return
    rng = np.random.default_rng(0)
    y = frame["income"].to_numpy() == 1
    decided, proba = run(session, frame)
    base_accuracy = (decided == y).mean()
    text = [c for c in frame.columns if c not in NUMERIC and c != "income"]
    results = {}
    for scale in [0.1, 0.25, 0.5]:
        copy = frame.copy()
        for c in NUMERIC:
            copy[c] = copy[c] + rng.normal(0, scale * frame[c].std(ddof=0), len(frame))
        results[f"noise_{scale}"] = run(session, copy)[0]
    copy = frame.copy()
    for c in text:
        cats = frame[c].unique()
        hit = rng.random(len(frame)) < 0.1
        copy.loc[hit, c] = rng.choice(cats, hit.sum())
    results["category_swap"] = run(session, copy)[0]
    copy = frame.copy()
    for c in NUMERIC + text:
        hit = rng.random(len(frame)) < 0.1
        copy.loc[hit, c] = np.nan if c in NUMERIC else ""
    results["missing_values"] = run(session, copy)[0]
    copy = frame.copy()
    for c in NUMERIC:
        lo, hi = frame[c].min(), frame[c].max()
        hit = rng.random(len(frame)) < 0.1
        copy.loc[hit, c] = np.where(rng.random(hit.sum()) < 0.5, hi + (hi - lo), lo - (hi - lo))
    results["out_of_range"] = run(session, copy)[0]
    robustness = {k: (base_accuracy - (d == y).mean(), (d != decided).mean()) for k, d in results.items()}
    counterfactual = {}
    for attribute in ["sex", "race"]:
        changed = np.zeros(len(frame), dtype=bool)
        for value in frame[attribute].unique():
            copy = frame.copy()
            copy[attribute] = value
            changed |= run(session, copy)[0] != decided
        counterfactual[attribute] = pd.Series(changed).groupby(frame[attribute]).mean()
    importance = {}
    for c in [c for c in frame.columns if c != "income"]:
        drops = []
        for _ in range(5):
            copy = frame.copy()
            copy[c] = rng.permutation(copy[c].to_numpy())
            drops.append(base_accuracy - (run(session, copy)[0] == y).mean())
        importance[c] = (np.mean(drops), np.std(drops))
    by = pd.DataFrame({"y": y, "d": decided, "sex": frame["sex"], "race": frame["race"]})
    for attribute in ["sex", "race"]:
        g = by.groupby(attribute)
        _ = g["d"].mean(), g.apply(lambda t: (t.d & t.y).sum() / max(t.y.sum(), 1), include_groups=False)
    seconds = time.perf_counter() - start
    print(f"{len(frame)} rows: full audit {seconds:.2f} s (read {read:.2f} s); accuracy {base_accuracy:.4f}")


if __name__ == "__main__":
    main()
