#!/usr/bin/env python3
"""Generate the Hellbender quickstart datasets (stdlib only, deterministic).

Task: normalize a date written in one of many human styles to ISO 8601
(``YYYY-MM-DD``).  Every input is unambiguous: numeric day/month orders are
either year-first (Y/M/D) or carry an explicit order tag such as
``(DD.MM.YYYY)``; dates span 1990-2029, so a two-digit year is
unambiguous ('90-'99 -> 19xx, '00-'29 -> 20xx).

Writes, next to this script:
  dates_train.jsonl    OpenAI chat format, 2000 rows
  dates_test.jsonl     OpenAI chat format, 80 rows (disjoint dates)
  alpaca_sample.jsonl  alpaca format (instruction/input/output), 50 rows

Usage: python examples/data/make_example_data.py [--out-dir DIR] [--seed N]
"""

import argparse
import datetime as dt
import json
import os
import random

INSTRUCTION = "Convert to ISO date (YYYY-MM-DD):"

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
ABBR = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
ORDINAL_WORDS = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
    "twenty-first",
    "twenty-second",
    "twenty-third",
    "twenty-fourth",
    "twenty-fifth",
    "twenty-sixth",
    "twenty-seventh",
    "twenty-eighth",
    "twenty-ninth",
    "thirtieth",
    "thirty-first",
]


def ordinal(n):
    if 10 <= n % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# Each style maps a date to an unambiguous human-written string.
STYLES = [
    lambda d: f"{MONTHS[d.month - 1]} {ordinal(d.day)}, {d.year}",
    lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",
    lambda d: f"{d.day} {MONTHS[d.month - 1]} {d.year}",
    lambda d: f"{d.day} {ABBR[d.month - 1]} {d.year}",
    lambda d: f"{ABBR[d.month - 1]} {d.day} {d.year}",
    lambda d: f"{ABBR[d.month - 1]}. {d.day}, {d.year}",
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: f"{d.year}.{d.month:02d}.{d.day:02d}",
    lambda d: f"the {ORDINAL_WORDS[d.day - 1]} of {MONTHS[d.month - 1]} {d.year}",
    lambda d: f"{d.day:02d}.{d.month:02d}.{d.year} (DD.MM.YYYY)",
    lambda d: f"{d.month:02d}/{d.day:02d}/{d.year} (MM/DD/YYYY)",
    lambda d: f"{WEEKDAYS[d.weekday()]}, {MONTHS[d.month - 1]} {d.day}, {d.year}",
    lambda d: f"{ordinal(d.day)} of {ABBR[d.month - 1]} '{d.year % 100:02d}",
    lambda d: f"{MONTHS[d.month - 1].lower()} {d.day} {d.year}",
    lambda d: f"{d.day} {ABBR[d.month - 1].upper()} {d.year}",
    lambda d: f"{d.day}-{ABBR[d.month - 1]}-{d.year % 100:02d}",
]

START = dt.date(1990, 1, 1)
END = dt.date(2029, 12, 31)


def random_date(rng):
    return START + dt.timedelta(days=rng.randint(0, (END - START).days))


def make_rows(rng, n, exclude):
    rows, used = [], set()
    while len(rows) < n:
        d = random_date(rng)
        if d in exclude or d in used:
            continue
        used.add(d)
        style = STYLES[len(rows) % len(STYLES)]  # balanced styles
        rows.append((style(d), d.isoformat()))
    rng.shuffle(rows)
    return rows, used


def chat(text, iso):
    return {
        "messages": [
            {"role": "user", "content": f"{INSTRUCTION} {text}"},
            {"role": "assistant", "content": iso},
        ]
    }


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out-dir", default=here)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--n-train", type=int, default=2000)
    p.add_argument("--n-test", type=int, default=80)
    p.add_argument("--n-alpaca", type=int, default=50)
    a = p.parse_args()
    rng = random.Random(a.seed)
    # test dates first, so train/alpaca never contain a test date
    test, test_dates = make_rows(rng, a.n_test, set())
    train, train_dates = make_rows(rng, a.n_train, test_dates)
    alpaca, _ = make_rows(rng, a.n_alpaca, test_dates)
    os.makedirs(a.out_dir, exist_ok=True)
    write_jsonl(os.path.join(a.out_dir, "dates_train.jsonl"), [chat(t, i) for t, i in train])
    write_jsonl(os.path.join(a.out_dir, "dates_test.jsonl"), [chat(t, i) for t, i in test])
    write_jsonl(
        os.path.join(a.out_dir, "alpaca_sample.jsonl"),
        [{"instruction": INSTRUCTION[:-1] + ".", "input": t, "output": i} for t, i in alpaca],
    )
    print(f"wrote {len(train)} train, {len(test)} test, {len(alpaca)} alpaca rows to {a.out_dir}")


if __name__ == "__main__":
    main()
