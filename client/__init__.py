"""Python client of the summarization service: `Client(url).summarize(text)`.

Needs only httpx and pydantic (no torch): the answers are the service's own response
models (`service.protocol`), so they are typed and validated. Connections are reused;
a `503` (overloaded, not ready, shutting down) is retried after its `Retry-After`.

    from client import Client

    with Client("http://127.0.0.1:8000") as summarizer:
        answer = summarizer.summarize(open("article.txt").read(), style="bullets")
        print(answer.bullets)
"""

from client.http import Client, ServiceError
from service.protocol import BatchResponse, SummarizeResponse

__all__ = ["BatchResponse", "Client", "ServiceError", "SummarizeResponse"]
