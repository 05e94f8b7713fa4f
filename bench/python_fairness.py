"""One measurement for bench/python.sh: lunli or Fairlearn on a DataFrame already in memory.

    python bench/python_fairness.py lunli|fairlearn ROWS

Both compute the nine rates and the count per group of one sensitive column and of the
intersection of two, plus the demographic-parity and equalized-odds differences. Prints one line:
tool, rows, seconds, growth of the peak RSS in MiB. The peak is reset (Linux clear_refs) after
the data is built and each tool has run once on 1,000 rows, so code loading is not counted.
"""

import sys
import time

import numpy as np
import pandas as pd


def status(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def data(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "y_true": rng.integers(0, 2, rows),
            "y_pred": rng.integers(0, 2, rows),
            "sex": pd.Categorical.from_codes(rng.integers(0, 2, rows).astype(np.int8), ["Female", "Male"]),
            "race": pd.Categorical.from_codes(rng.integers(0, 5, rows).astype(np.int8), list("ABCDE")),
        }
    )


def run_lunli(frame: pd.DataFrame):
    import lunli

    result = lunli.audit_fairness(frame, label="y_true", prediction="y_pred", sensitive=["sex", "race"])
    return result.to_pandas("sex"), result.to_pandas(), result.disparities("sex")


def run_fairlearn(frame: pd.DataFrame):
    from fairlearn.metrics import (
        MetricFrame,
        count,
        demographic_parity_difference,
        equalized_odds_difference,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_negative_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score, precision_score

    def base_rate(y_true, y_pred):
        return float(np.mean(y_true))

    def npv(y_true, y_pred):
        negative = y_pred == 0
        return float(np.mean(y_true[negative] == 0)) if negative.any() else 0.0

    metrics = {
        "count": count,
        "base_rate": base_rate,
        "selection_rate": selection_rate,
        "true_positive_rate": true_positive_rate,
        "false_positive_rate": false_positive_rate,
        "false_negative_rate": false_negative_rate,
        "true_negative_rate": true_negative_rate,
        "precision": lambda t, p: precision_score(t, p, zero_division=0),
        "negative_predictive_value": npv,
        "accuracy": accuracy_score,
    }
    y_true, y_pred = frame["y_true"], frame["y_pred"]
    by_sex = MetricFrame(metrics=metrics, y_true=y_true, y_pred=y_pred, sensitive_features=frame["sex"])
    both = MetricFrame(metrics=metrics, y_true=y_true, y_pred=y_pred, sensitive_features=frame[["sex", "race"]])
    dp = demographic_parity_difference(y_true, y_pred, sensitive_features=frame["sex"])
    eo = equalized_odds_difference(y_true, y_pred, sensitive_features=frame["sex"])
    return by_sex.by_group, both.by_group, {"dp": dp, "eo": eo}


def main() -> None:
    tool, rows = sys.argv[1], int(sys.argv[2])
    run = {"lunli": run_lunli, "fairlearn": run_fairlearn}[tool]
    frame = data(rows)
    run(frame.head(1000))
    start = status("VmRSS")
    reset_peak()
    began = time.perf_counter()
    run(frame)
    seconds = time.perf_counter() - began
    growth = (status("VmHWM") - start) / 2**20
    print(f"{tool:9} {rows:>10,} rows  {seconds:8.2f} s  peak +{growth:7.1f} MiB")


if __name__ == "__main__":
    main()
