# syntax=docker/dockerfile:1
# cgo is required: the embedded SQLite store is mattn/go-sqlite3.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/revealed ./cmd/revealed

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 revealed && mkdir /data && chown revealed /data
COPY --from=build /out/revealed /usr/local/bin/revealed
USER revealed
ENV REVEALED_ADDR=0.0.0.0:8080 \
    REVEALED_DB=/data/revealed.db \
    REVEALED_LOG_FORMAT=json
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/revealed"]
CMD ["serve"]
