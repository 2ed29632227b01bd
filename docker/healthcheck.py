"""Container HEALTHCHECK: exit 0 when this container's service is ready (`GET /readyz` answers 200)."""

import os
import sys

from client import Client

with Client(f"http://127.0.0.1:{os.environ.get('PORT', '8000')}", timeout=4, retries=0) as service:
    sys.exit(0 if service.ready() else 1)
