"""A local forge for tests and demos (think LocalStack, not a mock): real git repositories served
over smart HTTP by `git http-backend`, GitHub- and GitLab-compatible APIs whose state comes from
those repositories, and (in `updater_sandbox.kube`) a Kubernetes API server that keeps real state.

Everything listens on 127.0.0.1 only.
"""
