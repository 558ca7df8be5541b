"""Maintainers: write kitvet's bundled release-data snapshot from endoflife.date files.

    python scripts/make_releases_snapshot.py PRODUCTS_DIR --source TEXT --date YYYY-MM-DD

PRODUCTS_DIR holds endoflife.date product pages (``products/<name>.md`` of the
endoflife-date/endoflife.date repository) or API v1 documents. Only the products kitvet maps
inventory to (kitvet.identify.releases) are kept. The output is
``src/kitvet/identify/data/endoflife.json``; say in ``--source`` exactly where the files came
from (repository, path, commit) and in ``--date`` the date of that commit.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kitvet.identify.endoflife import ReleaseCatalog, catalog_to_json, read_paths
from kitvet.identify.releases import OS_PRODUCTS, PACKAGE_RULES, bundled_path

LICENCE = ("endoflife.date data, MIT licence: Copyright 2020 endoflife.date contributors "
           "(see endoflife.LICENSE.txt beside this file)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--source", required=True)
    ap.add_argument("--date", required=True)
    ap.add_argument("-o", "--output", type=Path, default=bundled_path())
    args = ap.parse_args()
    got, skipped = read_paths([args.folder])
    for s in skipped:
        print(f"skipped {s}", file=sys.stderr)
    wanted = set(OS_PRODUCTS) | {r.product for r in PACKAGE_RULES}
    missing = sorted(wanted - set(got.products))
    if missing:
        print(f"missing products: {', '.join(missing)}", file=sys.stderr)
    keep = ReleaseCatalog({k: v for k, v in got.products.items() if k in wanted},
                          source=args.source, date=args.date)
    args.output.write_text(catalog_to_json(keep, licence=LICENCE), encoding="utf-8")
    print(f"{args.output}: {len(keep.products)} products, "
          f"{sum(len(p.cycles) for p in keep.products.values())} cycles")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
