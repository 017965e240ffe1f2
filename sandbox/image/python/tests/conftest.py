# pytester runs pytest inside a temporary folder; the tests of the plugin use
# it to run real pytest sessions and read the report they write.
pytest_plugins = ["pytester"]
