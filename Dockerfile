# The Embedding Studio application image: the API, every worker, and (with pymysql) the
# MLflow server of docker-compose.yml all run from it.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TOKENIZERS_PARALLELISM=false \
    HF_HOME=/cache/huggingface \
    ES_PLUGINS_PATH=/app/plugins \
    INFERENCE_MODEL_REPO=/models \
    MODEL_CACHE_DIR=/cache/models \
    API_HOST=0.0.0.0 \
    API_PORT=5000

WORKDIR /app

# torch first, pinned as in pyproject.toml, from the CPU index: the default index would
# bring a multi-GB CUDA build. `pip install .` below then finds it already satisfied.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

# Dependencies change less often than the code: copy what the install needs first.
COPY pyproject.toml README.md ./
COPY embedding_studio ./embedding_studio
# Editable, so the package finds plugins/, migrations/ and deploy/ beside it in /app.
RUN pip install -e . pymysql==1.1.1

# The rest: plugins, migrations, deploy templates (.dockerignore keeps out tests and caches).
COPY . .

RUN useradd --create-home --uid 1000 studio \
    && mkdir -p /models /cache/models /cache/huggingface \
    && chown -R studio /models /cache
USER studio

EXPOSE 5000
CMD ["python", "-m", "uvicorn", "embedding_studio.main:app", "--host", "0.0.0.0", "--port", "5000"]
