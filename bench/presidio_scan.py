"""Scan a text file line by line with presidio-analyzer's pattern recognisers (no NLP model:
NoOpNlpEngine) and report MB/s and recall per entity type shared with lunli. Used by pii.sh."""
import json
import logging
import sys
import time

from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import NoOpNlpEngine

logging.disable(logging.WARNING)

# lunli entity -> Presidio entity, for the types both recognise.
SHARED = {
    "email": "EMAIL_ADDRESS",
    "bank_card": "CREDIT_CARD",
    "iban": "IBAN_CODE",
    "ipv4": "IP_ADDRESS",
    "ipv6": "IP_ADDRESS",
    "phone": "PHONE_NUMBER",
    "mobile": "PHONE_NUMBER",
    "landline": "PHONE_NUMBER",
    "us_ssn": "US_SSN",
    "date_of_birth": "DATE_TIME",
}


def main(sample, labels):
    nlp = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    nlp.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp)
    engine = AnalyzerEngine(nlp_engine=nlp, registry=registry, supported_languages=["en"])
    engine.analyze("warm up li@example.com", language="en")

    truth = {}
    with open(labels, encoding="utf-8") as f:
        for row in map(json.loads, f):
            truth.setdefault(row["line"], []).append(row)
    with open(sample, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    size = sum(len(line.encode("utf-8")) + 1 for line in lines)

    started = time.perf_counter()
    results = [engine.analyze(line, language="en") for line in lines]
    seconds = time.perf_counter() - started

    recall = {}
    for index, found in enumerate(results):
        for label in truth.get(index, []):
            kind = SHARED.get(label["entity"])
            if kind is None:
                continue
            hit = any(r.entity_type == kind and r.start < label["end"] and label["start"] < r.end for r in found)
            counts = recall.setdefault(label["entity"], {"found": 0, "labelled": 0})
            counts["found"] += int(hit)
            counts["labelled"] += 1
    print(json.dumps({"tool": "presidio", "bytes": size, "lines": len(lines), "seconds": round(seconds, 3),
                      "mb_per_s": round(size / 1e6 / seconds, 3), "recall": recall}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
