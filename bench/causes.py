"""Likely causes against the causes the generator injected: the share of breaks with an injected
cause that are named with it, those named with another, and those named where none was injected.

    python bench/causes.py --rows 100000 --days 4 --seed 5

Generates the nights (``walletrecon sample``: ``truth.csv`` carries each break's injected
``cause``), reconciles them in order and scores every published ``likely_cause``
(``evaluate.cause_score``).
"""

from __future__ import annotations

from generated import generated_nights
from walletrecon.evaluate import cause_score


def main() -> None:
    with generated_nights(__doc__.splitlines()[0]) as nights:
        scores = cause_score(nights.data / "truth.csv", nights.out)
    print(f"{nights.label}, {nights.seconds:.1f} s")
    print("| cause | injected | named right | share | named wrong | named where none injected |")
    print("|---|---|---|---|---|---|")
    for score in scores:
        print(
            f"| {score.cause} | {score.injected} | {score.named_right} | "
            f"{f'{score.share_named:.3f}' if score.injected else '-'} | {score.named_wrong} | "
            f"{score.named_without} |"
        )


if __name__ == "__main__":
    main()
