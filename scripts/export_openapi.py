"""Write the API's OpenAPI schema to frontend/src/api/openapi.json (input of the generated TS types)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dalgo.settings")


def main() -> None:
    import django

    django.setup()
    from dalgo.api import api

    schema = api.get_openapi_schema()
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[1] / "frontend/src/api/openapi.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
