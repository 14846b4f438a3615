"""Build tracker/data/common-passwords.txt from the list Django ships.

Source: `django/contrib/auth/common-passwords.txt.gz` in Django 5.2.17 (BSD licence), which
Django describes as "20000 common passwords (unhexed, lowercased and deduplicated), created by
Royce Williams" (gist 226886fd01572964e1431ac8afc999ce, the most common passwords in Have I
Been Pwned's Pwned Passwords). We keep the entries of 8 characters or more, in the list's own
order (most common first): a shorter one could only match a password the length rule has
already refused, except as the core of a longer one (`password123456`), which the policy
checks too, and 8 characters keep the file under 100 KB.

Usage: python scripts/build_common_passwords.py PATH/TO/common-passwords.txt.gz
(the file is inside Django's wheel: `unzip django-5.2.17-py3-none-any.whl
'django/contrib/auth/common-passwords.txt.gz'`).
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "tracker" / "data" / "common-passwords.txt"
MIN_LENGTH = 8


def main(source: Path) -> int:
    seen: set[str] = set()
    kept: list[str] = []
    for line in gzip.decompress(source.read_bytes()).decode("utf-8").splitlines():
        word = line.strip().lower()
        if len(word) >= MIN_LENGTH and word not in seen:
            seen.add(word)
            kept.append(word)
    TARGET.write_text("\n".join(kept) + "\n", encoding="utf-8")
    print(f"{len(kept)} passwords written to {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
