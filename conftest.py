"""Root conftest: the project's own suite runs the plugin through pytester only."""

pytest_plugins = ["pytester"]
