# The djgrade service. It grades through the host's Docker Engine (mount its
# socket) and keeps its store on a volume. Build it with
#
#   make service-image          # = CGO_ENABLED=0 go build, then djgrade image build --service
#
# which sends this file and the static bin/djgrade to the engine's classic
# builder with BASE set the way the sandbox image chooses its base:
# debian:trixie-slim where it is present or pullable, otherwise
# djgrade-base:trixie, bootstrapped from Debian's packages with debootstrap
# (no registry needed). Run it with
#
#   docker run -d --name djgrade -p 127.0.0.1:8080:8080 \
#     -v /var/run/docker.sock:/var/run/docker.sock -v djgrade-data:/data djgrade:latest
#
# The binary is built outside: no Go toolchain image can be pulled here.
ARG BASE=debian:trixie-slim
FROM ${BASE}
COPY bin/djgrade /usr/local/bin/djgrade
ENV DJGRADE_ADDR=0.0.0.0:8080 \
    DJGRADE_DATA=/data
VOLUME /data
EXPOSE 8080
# Root inside this container only, to use the mounted Docker socket whatever
# group owns it on the host (a fixed docker GID would break on other hosts).
# Whoever reaches that socket controls the host's engine anyway; candidate
# code never runs here but in sandbox containers as uid 10001, with no
# network and no capabilities.
# docker stop sends SIGTERM: running gradings get --shutdown-grace (30s) to
# finish, so give docker stop a longer --time for it to matter.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/djgrade"]
CMD ["serve"]
