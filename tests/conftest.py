pytest_plugins = ["tests.plugins.openbao", "tests.plugins.lab"]
