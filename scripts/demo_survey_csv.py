"""Writes the demo's bundled household survey (src/dalgo/demo_data/household_survey.csv): 1,200
households from five districts of Madhya Pradesh with villages, survey dates, numbers, yes/no
answers, free-text notes (commas, quotes, Hindi) and blanks, as a field team's export would have.
Deterministic: running it again gives the same file.

    uv run python scripts/demo_survey_csv.py
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "src" / "dalgo" / "demo_data" / "household_survey.csv"
DISTRICTS = {
    "Barwani": ["Sendhwa", "Pati", "Rajpur", "Thikri"],
    "Dhar": ["Kukshi", "Manawar", "Badnawar", "Sardarpur"],
    "Jhabua": ["Petlawad", "Thandla", "Meghnagar", "Rama"],
    "Khargone": ["Bhikangaon", "Sanawad", "Maheshwar", "Kasrawad"],
    "Alirajpur": ["Jobat", "Sondwa", "Bhabra", "Udaygarh"],
}
WATER = ["handpump", "piped", "well", "tanker", "river"]
NOTES = [
    "Needs follow-up: ration card",
    "Needs follow-up: pension, widow",
    'Head of household said "will apply next month"',
    "MGNREGA job card pending",
    "राशन कार्ड नहीं है",
    "Migrated to Indore for work, returns in March",
    "Two children out of school; girl, 14",
]
SURVEYORS = ["Sunita Bhuria", "Ramesh Damor", "Kavita Solanki", "Imran Khan", "Lakshmi Baghel"]


def rows(count: int = 1200) -> list[dict[str, object]]:
    rng = random.Random(2026)  # noqa: S311  (demo data, not secrets)
    out = []
    for i in range(1, count + 1):
        district = rng.choice(list(DISTRICTS))
        size = rng.randint(2, 9)
        out.append({
            "household_id": f"HH-{i:05d}",
            "district": district,
            "village": rng.choice(DISTRICTS[district]),
            "survey_date": (date(2025, 1, 6) + timedelta(days=rng.randint(0, 330))).isoformat(),
            "surveyor": rng.choice(SURVEYORS),
            "household_size": size,
            "children_in_school": rng.randint(0, min(size - 1, 4)),
            "monthly_income_inr": "" if rng.random() < 0.06 else rng.randrange(2500, 21000, 50),
            "water_source": rng.choice(WATER),
            "has_toilet": "" if rng.random() < 0.04 else rng.choice(["yes", "yes", "no"]),
            "latitude": round(21.5 + rng.random() * 1.6, 5),
            "longitude": round(74.0 + rng.random() * 1.9, 5),
            "notes": rng.choice(NOTES) if rng.random() < 0.2 else "",
        })  # fmt: skip
    return out


def main() -> None:
    data = rows()
    with TARGET.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(data[0]))
        writer.writeheader()
        writer.writerows(data)
    print(f"wrote {len(data)} rows to {TARGET}")


if __name__ == "__main__":
    main()
