# Two entry points (see README): `make run` (the main job) and `make test` (the harness's tests).
# Both create .venv on first use; Kafka jars and toxiproxy are provisioned on first use and cached.
# `make test` also needs a Docker engine (started if none answers: .ci/docker-engine) and the
# docker provider's images (built once without a registry: kch images build, as root).
VENV := .venv
STAMP := $(VENV)/.installed
SUDO := $(if $(filter 0,$(shell id -u)),,sudo -E)
# Specs that also run on the docker provider in `make test`: true partitions, link toxics
# between nodes, and coordinator faults.
DOCKER_SPECS := specs/producer/idempotent-true-partition.yaml specs/producer/acks1-loss-on-leader-kill.yaml \
	specs/group/coordinator-failover.yaml specs/group/coordinator-true-partition.yaml

.PHONY: run test provision images engine clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/kch run ci

# The specs run as a client x spec matrix of two clients (ci profile); tests/test_drivers.py
# checks every built-in client's driver.
test: $(STAMP) images
	$(VENV)/bin/kch provision --clients all
	$(VENV)/bin/pytest --kch-client confluent-kafka,franz-go
	$(VENV)/bin/pytest $(DOCKER_SPECS) --kch-cluster docker --kch-images kch --kch-client confluent-kafka,franz-go

engine:
	.ci/docker-engine

images: $(STAMP) engine
	$(SUDO) $(VENV)/bin/kch images build

provision: $(STAMP)
	$(VENV)/bin/kch provision --clients all

clean:
	rm -rf $(VENV) build *.egg-info
