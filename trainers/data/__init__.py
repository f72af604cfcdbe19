"""Dataset readers for the manifests described in trainers/README.md."""
