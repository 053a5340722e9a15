# Two entry points (see README): `make run` (the main job) and `make test` (the harness's tests).
# Both create .venv on first use; Kafka jars and toxiproxy are provisioned on first use and cached.
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: run test provision clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/kch run ci

# The specs run as a client x spec matrix of two clients (ci profile); tests/test_drivers.py
# checks every built-in client's driver.
test: $(STAMP)
	$(VENV)/bin/kch provision --clients all
	$(VENV)/bin/pytest --kch-client confluent-kafka,franz-go

provision: $(STAMP)
	$(VENV)/bin/kch provision --clients all

clean:
	rm -rf $(VENV) build *.egg-info
