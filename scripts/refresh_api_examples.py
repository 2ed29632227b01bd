"""Write service/api_examples.json: the OpenAPI document's examples, as real answers of the default engine.

    .venv/bin/python scripts/refresh_api_examples.py

Run it after a change to the engine's output; tests/test_openapi.py fails while the examples
are stale. Latencies are the only values that may differ between runs.
"""

from __future__ import annotations

import json

from service.app import create_app
from service.config import Settings
from service.openapi import EXAMPLES

ARTICLE = (
    "The city council approved a new transit plan on Tuesday after months of debate. "
    "The plan adds three bus lines and extends the tram to the airport by 2027. "
    "Council members said the project will cost about $1.2 billion over ten years. "
    "Opponents argued that the money should go to road repairs instead."
)
REQUESTS = {
    "summarize": ("/v1/summarize", {"text": ARTICLE, "style": "both", "max_bullets": 4}),
    "batch": (
        "/v1/summarize/batch",
        {
            "documents": [
                {"id": "transit", "text": ARTICLE, "title": "Transit plan approved"},
                {"id": "empty", "text": "   "},
            ],
            "style": "short",
        },
    ),
}


def examples() -> dict:
    client = create_app(Settings()).test_client()
    result = {}
    for name, (path, request) in REQUESTS.items():
        response = client.post(path, json=request)
        assert response.status_code == 200, response.get_json()
        result[name] = {"request": request, "response": response.get_json()}
    return result


if __name__ == "__main__":
    EXAMPLES.write_text(json.dumps(examples(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {EXAMPLES}")
