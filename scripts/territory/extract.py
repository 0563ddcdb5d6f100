#!/usr/bin/env python3
"""Writes Vigie's compact territory extract from @etalab/decoupage-administratif.

Usage (Python 3.11, standard library only):

    cd /tmp && npm pack @etalab/decoupage-administratif@6.0.0 \
        && tar xzf etalab-decoupage-administratif-6.0.0.tgz
    python3 scripts/territory/extract.py /tmp/package data/territory

Reads `data/{regions,departements,communes,epci}.json` of the unpacked
package and writes four sorted, tab-separated files (UTF-8, `\n`, one header
line) into the output folder:

- `regions.tsv`      code, name
- `departments.tsv`  code, region, name
- `epcis.tsv`        siren, kind, name
- `communes.tsv`     insee, department, epci, population, name, former

Only the 18 regions and 101 departments (zones `metro` and `drom`) and the
`commune-actuelle` communes inside them are kept: overseas collectivities
(zone `com`: 975, 977, 978, 984, 986 to 989) have no region or department, and
municipal arrondissements of Paris, Lyon and Marseille, delegated and
associated communes are not communes. `former` lists, comma-separated, the
INSEE codes that now designate that commune only (merged communes, old codes),
so that Vigie can point an outdated code to the current one. The output is
deterministic: same input, same bytes.
"""

import json
import sys
from collections import defaultdict
from pathlib import Path

KEPT_ZONES = {"metro", "drom"}


def load(package: Path, name: str):
    with open(package / "data" / name, encoding="utf-8") as f:
        return json.load(f)


def clean(value) -> str:
    text = "" if value is None else str(value)
    if any(ch in text for ch in "\t\r\n"):
        raise ValueError(f"field contains a tab or newline: {text!r}")
    return text.strip()


def write_tsv(path: Path, header: list[str], rows: list[list]) -> None:
    rows = sorted([clean(v) for v in row] for row in rows)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\t".join(header) + "\n")
        for row in rows:
            f.write("\t".join(row) + "\n")
    print(f"{path}: {len(rows)} rows", file=sys.stderr)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    package, out = Path(argv[1]), Path(argv[2])
    out.mkdir(parents=True, exist_ok=True)

    regions = [r for r in load(package, "regions.json") if r["zone"] in KEPT_ZONES]
    region_codes = {r["code"] for r in regions}
    departments = [
        d
        for d in load(package, "departements.json")
        if d["zone"] in KEPT_ZONES and d["region"] in region_codes
    ]
    department_region = {d["code"]: d["region"] for d in departments}

    all_communes = load(package, "communes.json")
    communes = {
        c["code"]: c
        for c in all_communes
        if c["type"] == "commune-actuelle" and c["departement"] in department_region
    }
    for c in communes.values():
        if department_region[c["departement"]] != c["region"]:
            raise ValueError(f"commune {c['code']}: region differs from its department's")

    epcis = load(package, "epci.json")
    commune_epci: dict[str, str] = {}
    for e in epcis:
        for m in e["membres"]:
            if m["code"] in commune_epci:
                raise ValueError(f"commune {m['code']} is in two EPCIs")
            commune_epci[m["code"]] = e["code"]
    kept_epcis = [e for e in epcis if any(m["code"] in communes for m in e["membres"])]

    # Codes that no longer designate a current commune but lead to exactly one.
    former = defaultdict(set)
    for c in all_communes:
        if c["type"] == "commune-actuelle":
            for old in c.get("anciensCodes", []):
                former[old].add(c["code"])
        elif c["type"] in ("commune-deleguee", "commune-associee") and c.get("chefLieu"):
            former[c["code"]].add(c["chefLieu"])
    former_of = defaultdict(list)
    for old, current in former.items():
        if old not in communes and len(current) == 1:
            (target,) = current
            if target in communes:
                former_of[target].append(old)

    write_tsv(out / "regions.tsv", ["code", "name"], [[r["code"], r["nom"]] for r in regions])
    write_tsv(
        out / "departments.tsv",
        ["code", "region", "name"],
        [[d["code"], d["region"], d["nom"]] for d in departments],
    )
    write_tsv(
        out / "epcis.tsv",
        ["siren", "kind", "name"],
        [[e["code"], e["type"], e["nom"]] for e in kept_epcis],
    )
    write_tsv(
        out / "communes.tsv",
        ["insee", "department", "epci", "population", "name", "former"],
        [
            [
                c["code"],
                c["departement"],
                commune_epci.get(c["code"], ""),
                c.get("population", ""),
                c["nom"],
                ",".join(sorted(former_of.get(c["code"], []))),
            ]
            for c in communes.values()
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
