# The two quick-start commands: `make run` and `make test`. Each sets up .venv itself.
.PHONY: run test setup lint bench

setup:
	@tools/setup.sh dev,llm

run:
	@tools/setup.sh
	.venv/bin/moalign run recipes/quickstart.yaml

test: setup
	.venv/bin/ruff check moalign tests tools recipes
	.venv/bin/mypy
	.venv/bin/python -m pytest -q

bench: setup
	.venv/bin/python -m tools.bench.hypervolume
