#!/usr/bin/env python3
"""Writes tests/fixtures/phones.tsv: libphonenumber's own answer for every region's example
mobile number written in E.164, international, national and international-dialling-prefix
form, read with the region itself and with a foreign default country.

Pinned to the metadata the Rust `phonenumber` crate carries (its version's `+9.0.33`):

    python3 -m venv /tmp/phones-venv
    /tmp/phones-venv/bin/pip install -r tests/phones/requirements.txt
    /tmp/phones-venv/bin/python tests/phones/generate.py > tests/fixtures/phones.tsv
"""

import sys

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

PINNED = "9.0.33"

# Foreign defaults: the US dials out with 011 and has national prefix 1; Germany dials 00 and has 0.
FOREIGN = {"US": "011 ", "DE": "00 "}


# Other ways of writing an international number: each country's own dialling prefix, a `+`
# before it, a non-geographic code, a national prefix written after the country code.
EDGES = [
    ("AU", "0011 49 1512 3456789"),
    ("BR", "0021 49 1512 3456789"),
    ("JP", "010 49 1512 3456789"),
    ("RU", "810 49 1512 3456789"),
    ("KR", "001 86 131 2345 6789"),
    ("GB", "00 86 131 2345 6789"),
    ("DE", "00 1 626 555 0100"),
    ("US", "011 1 626 555 0100"),
    ("US", "(011) 49 1512 3456789"),
    ("US", "+011 49 1512 3456789"),
    ("DE", "+00 49 1512 3456789"),
    ("US", "+00 49 1512 3456789"),
    ("DE", "+0 1512 3456789"),
    ("US", "++49 1512 3456789"),
    ("RU", "+8103-1234-5678"),
    ("RU", "+81 03-1234-5678"),
    ("US", "+1626-555-0100"),
    ("DE", "+1626-555-0100"),
    ("US", "+800 1234 5678"),
    ("DE", "+39 06 6982 1234"),
    ("US", "011 39 06 6982 1234"),
    ("GG", "+44 1481 256789"),
    ("US", "tel:+49-1512-3456789"),
    ("US", "+49 1512 3456789 ext. 12"),
    ("US", "+44 (0) 7911 123456"),
    ("US", "+11234567890"),
]


def expected(text, default):
    """libphonenumber's E.164 for `text` read with `default`, or `-` when it refuses it."""
    try:
        number = phonenumbers.parse(text, default)
    except phonenumbers.NumberParseException:
        return "-"
    if not phonenumbers.is_valid_number(number):
        return "-"
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def main():
    if phonenumbers.__version__ != PINNED:
        sys.exit(f"phonenumbers {phonenumbers.__version__} installed; the table needs {PINNED}")
    out = sys.stdout
    out.write(f"# libphonenumber {PINNED} (Python phonenumbers=={PINNED}), the metadata of the Rust crate\n")
    out.write(f"# phonenumber 0.3.10+{PINNED}; written by tests/phones/generate.py.\n")
    out.write("# Every region's example mobile number; expected is libphonenumber's E.164, or - when it\n")
    out.write("# refuses the number. Columns: region, form, default country, written, expected.\n")
    out.write("region\tform\tdefault\twritten\texpected\n")
    skipped = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
        if example is None:
            # Tristan da Cunha has no mobile numbers: its example (fixed-line) number stands in.
            skipped.append(region)
            example = phonenumbers.example_number(region)
        e164 = phonenumbers.format_number(example, PhoneNumberFormat.E164)
        international = phonenumbers.format_number(example, PhoneNumberFormat.INTERNATIONAL)
        national = phonenumbers.format_number(example, PhoneNumberFormat.NATIONAL)
        rows = [("national", region, national)]
        for default in [region, *FOREIGN]:
            rows.append(("e164", default, e164))
            rows.append(("international", default, international))
        for default, idd in FOREIGN.items():
            rows.append(("idd", default, idd + international.removeprefix("+")))
        # One digit short: refused unless libphonenumber knows a shorter number of the region.
        rows.append(("short", "US", e164[:-1]))
        seen = set()
        for form, default, written in rows:
            if (default, written) in seen:
                continue
            seen.add((default, written))
            out.write(f"{region}\t{form}\t{default}\t{written}\t{expected(written, default)}\n")
    for default, written in EDGES:
        out.write(f"-\tedge\t{default}\t{written}\t{expected(written, default)}\n")
    out.write(f"# regions without an example mobile number (their example number is used): {' '.join(skipped) or 'none'}\n")


if __name__ == "__main__":
    main()
