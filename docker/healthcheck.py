"""Container HEALTHCHECK: exit 0 when GET /readyz on this container's port answers 200.

Slim images have no curl; this needs only the standard library. Any non-2xx answer,
refused connection or timeout exits 1.
"""

import os
import sys
import urllib.request

url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/readyz"
try:
    with urllib.request.urlopen(url, timeout=4) as response:  # raises on 4xx/5xx
        sys.exit(0 if 200 <= response.status < 300 else 1)
except Exception as error:  # noqa: BLE001 - any failure means "not healthy"
    print(f"healthcheck: {url}: {error}", file=sys.stderr)
    sys.exit(1)
