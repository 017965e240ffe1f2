# djgrade: two commands on a fresh machine.
#   make run    set up (Debian packages, the sandbox image) and run the service
#   make test   set up and run every test suite
SHELL := /bin/bash
GO ?= go
BIN := bin/djgrade

.PHONY: run test setup build image service-image clean

## setup: install what a fresh Debian machine lacks to build the sandbox image
## and to run the browser tests (Debian's chromium)
setup:
	@command -v debootstrap >/dev/null || { \
	  echo "djgrade: installing debootstrap (to make the sandbox's base image without a registry)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; }
	@command -v chromium >/dev/null || { \
	  echo "djgrade: installing chromium (headless, for the dashboard's browser tests)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	@command -v docker >/dev/null || { echo "djgrade: a Docker Engine is required"; exit 1; }

## build: a static binary, so that the service image can hold it on any base
build:
	CGO_ENABLED=0 $(GO) build -buildvcs=auto -o $(BIN) ./cmd/djgrade

## image: build the sandbox image if the one for the current inputs is missing
image: setup build
	$(BIN) image build

## service-image: the image of the djgrade service itself (see Dockerfile), FROM
## the base the sandbox image uses (pulled or bootstrapped from Debian)
service-image: image
	$(BIN) image build --service --tag djgrade:latest

## run: set up and serve on 127.0.0.1:8080 with the store in ./data
run: image
	$(BIN) serve

## test: every suite, with real containers, a real bbolt file and real HTTP
test: image
	$(GO) vet ./...
	$(GO) test -count=1 -p 1 -timeout 80m ./...

clean:
	rm -rf bin
