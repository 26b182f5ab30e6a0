"""The course models, each a runnable script: python -m models.<name>."""
