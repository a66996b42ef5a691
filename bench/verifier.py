"""The verifier on WiCE alone (what `qa bench quality` reports among the other benchmarks): does it pick
the sentences that support a claim, and label the claim right? Beside the top-2-by-embedding baseline.

    python -m bench.verifier [dev|test ...]      # prints precision / recall / F1 and label accuracy

The measurement lives in qa/benchmarks.py (`wice`); vectors are cached under ~/.cache/qa-bench.
"""

from __future__ import annotations

import sys
import time


def main(splits: list[str]) -> None:
    from qa import benchmarks, embeddings

    data, cache = benchmarks.find_data(), benchmarks.VectorCache(embeddings.load())
    for split in splits:
        t = time.perf_counter()
        res = benchmarks.wice(data, split, cache)
        o, b = res["ours"], res["baseline"]
        print(f"WiCE {split}: {res['n']} claims ({res['with_gold']} with a gold set), {time.perf_counter() - t:.0f} s")
        print(f"  verifier picks   P {o['precision']:.3f}  R {o['recall']:.3f}  F1 {o['f1']:.3f}")
        print(f"  top-2 embedding  P {b['precision']:.3f}  R {b['recall']:.3f}  F1 {b['f1']:.3f}")
        print(f"  claim label accuracy {o['label_accuracy']:.3f} (always {res['baseline_label']!r}: {b['label_accuracy']:.3f})")


if __name__ == "__main__":
    main(sys.argv[1:] or ["dev"])
