"""A deterministic benchmark corpus: seed article text, recombined and varied.

``python -m bench.corpus --out DIR --n 10000`` writes N article files in the shape the
cleaner expects (title, byline, printed date, paragraphs, a little page debris). Every body is
distinct (the store de-duplicates identical bodies), and dates spread over two years so
windows and recency mean something.
"""

from __future__ import annotations

import argparse
import random
from datetime import datetime, timedelta
from pathlib import Path

from briefs.ingest.articles import read_article
from briefs.resources import seeds_dir

PUBLISHERS = ["The Korea Herald", "Yonhap News Agency", "The Moscow Times", "NK News"]
NAMES = [
    ("John Kirby", "Matthew Miller"),
    ("Sergei Shoigu", "Andrei Belousov"),
    ("Kim Jong-un", "Kim Jong-un"),
    ("Antony Blinken", "Marco Rubio"),
    ("Karine Jean-Pierre", "Karoline Leavitt"),
]
SWAPS = [
    ("artillery", "rocket"),
    ("munitions", "ammunition"),
    ("satellite", "spacecraft"),
    ("concerned", "worried"),
    ("negotiations", "talks"),
    ("violate", "breach"),
]
MONTHS = ["Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.", "Oct.",
          "Nov.", "Dec."]  # fmt: skip
START = datetime(2023, 1, 2, 9, 0)


def seed_paragraphs() -> list[str]:
    paragraphs: list[str] = []
    for path in sorted(seeds_dir().glob("*.txt")):
        paragraphs.extend(read_article(path).body.split("\n\n"))
    return paragraphs


def article(i: int, rng: random.Random, pool: list[str]) -> str:
    """One article: 8-20 seed paragraphs, names and words swapped, a unique closing line."""
    paragraphs = rng.sample(pool, rng.randint(8, min(20, len(pool))))
    text = "\n\n".join(paragraphs)
    for old, new in rng.sample(NAMES, 2):
        text = text.replace(old, new)
    for old, new in rng.sample(SWAPS, 3):
        text = text.replace(old, new)
    when = START + timedelta(minutes=i * 105 + rng.randint(0, 60))
    stamp = f"{MONTHS[when.month - 1]} {when.day}, {when.year} - {when:%H:%M}"
    title = rng.choice(pool).split(".")[0][:90].rstrip(",;: ")
    return (
        f"{rng.choice(PUBLISHERS)}\n\n{title} ({i})\n\nBy Staff Reporter {i % 97}\n\n"
        f"Published : {stamp}\n\nAdvertisement\n\n{text}\n\n"
        f"This is report number {i} in the benchmark series, filed at {when:%H:%M}.\n"
    )


def generate(folder: Path, n: int, seed: int = 0) -> list[Path]:
    """Write ``n`` articles into ``folder`` (created), returning their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    pool = seed_paragraphs()
    paths = []
    for i in range(n):
        path = folder / f"bench_{i:06d}.txt"
        path.write_text(article(i, rng, pool), encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    paths = generate(args.out, args.n, args.seed)
    print(f"wrote {len(paths)} articles to {args.out}")


if __name__ == "__main__":
    main()
