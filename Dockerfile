# The djgrade service. It grades through the host's Docker Engine (mount its
# socket) and keeps its store on a volume:
#
#   go build -o bin/djgrade ./cmd/djgrade
#   docker build -t djgrade --build-arg BASE=djgrade-base:trixie .   # or the default debian:trixie-slim
#   docker run -d -p 127.0.0.1:8080:8080 -v /var/run/docker.sock:/var/run/docker.sock -v djgrade-data:/data djgrade
#
# The binary is built outside (no Go toolchain image can be pulled here); the
# base is Debian's slim image where a registry is reachable, or the one
# `djgrade image build` bootstraps from Debian's packages (djgrade-base:trixie).
ARG BASE=debian:trixie-slim
FROM ${BASE}
COPY bin/djgrade /usr/local/bin/djgrade
ENV DJGRADE_ADDR=0.0.0.0:8080 \
    DJGRADE_DATA=/data
VOLUME /data
EXPOSE 8080
# Root inside this container only to reach the mounted Docker socket;
# candidate code never runs here but in sandbox containers as uid 10001.
ENTRYPOINT ["/usr/local/bin/djgrade"]
CMD ["serve"]
