"""Suggested matches against the generator's near misses: how many are suggested with their true
counterpart, and how many suggestions are wrong.

    python bench/suggestions.py --rows 100000 --days 4 --seed 5

Generates the nights (``walletrecon sample``: near misses are a settlement line under a mistyped
reference and a receipt under a mistyped txn_id, their counterpart in ``truth.csv``), reconciles
them in order and scores every published suggestion (``evaluate.suggestion_score``).
"""

from __future__ import annotations

from generated import generated_nights
from walletrecon.evaluate import suggestion_score


def main() -> None:
    with generated_nights(__doc__.splitlines()[0]) as nights:
        score = suggestion_score(nights.data / "truth.csv", nights.out)
    print(f"{nights.label}, {nights.seconds:.1f} s")
    header = ("near misses", "suggestible", "suggested right", "share", "suggestions", "wrong")
    print("| " + " | ".join((*header, "share wrong")) + " |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {score.near_misses} | {score.suggestible} | {score.suggested_right} | "
        f"{score.share_suggested:.3f} | {score.suggestions} | {score.wrong} | "
        f"{score.share_wrong:.4f} |"
    )


if __name__ == "__main__":
    main()
