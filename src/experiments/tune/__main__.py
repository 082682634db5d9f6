from experiments import cli, schema
from experiments.tune.search import main

cli.cli(main, schema.CONFIG_ERRORS)
