# Article summarization service: gunicorn + Flask + transformers on CPU torch.
#
#   docker build -t article-summarizer .
#   docker run --rm -p 8000:8000 article-summarizer
#
# Build arguments (README "Docker" has the details):
#   BASE_IMAGE       Python 3.11 image for both stages (a local one where no registry is reachable)
#   TORCH_INDEX_URL  index torch (and only torch) is installed from: the default CPU index keeps
#                    CUDA out of the image; .../whl/cu128 (or another CUDA tag) makes a GPU image
#   TORCH_VERSION    torch version
#   MODEL            Hugging Face model id baked in for the abstractive engine (default: none,
#                    the embedded model that ships with the package is used)
#   MODEL_REVISION   branch, tag or commit of MODEL
ARG BASE_IMAGE=python:3.11-slim

# ---- builder: the application and its dependencies in /opt/venv ----
FROM ${BASE_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv

# torch first, in its own layer, from the selected index.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG TORCH_VERSION=2.13.0
RUN pip install --no-cache-dir --index-url "$TORCH_INDEX_URL" "torch==${TORCH_VERSION}"

# The service package and the rest of its dependencies (torch above already satisfies its pin).
WORKDIR /src
COPY pyproject.toml README.md ./
COPY service ./service
RUN pip install --no-cache-dir . && pip check

# ---- model: optional abstractive model, downloaded at build time ----
FROM builder AS model
ARG MODEL=""
ARG MODEL_REVISION=main
COPY docker/fetch_model.py /tmp/fetch_model.py
RUN python /tmp/fetch_model.py "$MODEL" "$MODEL_REVISION" /opt/models/model

# ---- runtime ----
FROM ${BASE_IMAGE}
ARG BASE_IMAGE
ARG MODEL=""
ARG VERSION=0.1.0
ARG REVISION=""
LABEL org.opencontainers.image.title="article-summarizer" \
      org.opencontainers.image.description="HTTP microservice that turns news articles into a short summary and grounded bullets" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app --shell /usr/sbin/nologin app

COPY --from=builder /opt/venv /opt/venv
COPY --from=model /opt/models /opt/models
COPY docker/healthcheck.py /usr/local/lib/healthcheck.py

# Serving defaults for one container on a small CPU host (README "Docker"): one worker holds
# one copy of the model and uses every core through torch; threads let /healthz, /readyz and
# queued requests through while it computes. SUMMARIZER_MODEL is empty unless MODEL was set.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HF_HUB_DISABLE_TELEMETRY=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    WEB_CONCURRENCY=1 \
    GUNICORN_THREADS=4 \
    GUNICORN_TIMEOUT=120 \
    SUMMARIZER_MODEL=${MODEL:+/opt/models/model}

USER 10001:10001
WORKDIR /home/app
EXPOSE 8000
# Model loading and warm-up take a while on small hosts: failures count only after start-period.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "/usr/local/lib/healthcheck.py"]
CMD ["gunicorn", "--config", "python:service.gunicorn_conf", "service.wsgi:app"]
