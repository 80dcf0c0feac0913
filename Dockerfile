# syntax=docker/dockerfile:1
# commentbot: pure-Go static binary (CGO_ENABLED=0) in a distroless image, run as non-root.
#   docker build -t commentbot .
#   docker run --rm -it -v commentbot-data:/data commentbot            # console, embedded defaults
#   docker run -d -e DISCORD_TOKEN -e DISCORD_APP_ID -v commentbot-data:/data commentbot
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/commentbot . \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/commentbot /usr/local/bin/commentbot
COPY --from=build --chown=65532:65532 /out/data /data
COPY commentbot.example.yaml /etc/commentbot/commentbot.example.yaml
USER 65532:65532
WORKDIR /data
VOLUME ["/data"]
# Prometheus metrics and /healthz; HTTP interactions when bot.http_listen is set.
EXPOSE 9464 8080
ENTRYPOINT ["/usr/local/bin/commentbot"]
CMD ["run", "--data-dir", "/data"]
