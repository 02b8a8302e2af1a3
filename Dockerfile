# Hearth's production image: a static binary on an empty base.
#
#   docker build -t hearth --build-arg VERSION=1.2.3 .
#   docker run -p 8090:8090 -v hearth_data:/pb_data hearth
#
# Migrations are Go code compiled into the binary, so only pb_hooks/ (JS,
# loaded at start) ships beside it. See docs/deploy.md.

FROM golang:1.27-bookworm AS build
# The base's Go is the one go.mod asks for; never download another.
ENV GOTOOLCHAIN=local CGO_ENABLED=0
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN go build -trimpath -ldflags "-s -w -X github.com/crews/hearth/version.Version=${VERSION}" -o /out/hearth . \
 && mkdir -p /out/etc /out/pb_data \
 && echo 'hearth:x:10001:10001:hearth:/pb_data:/hearth' > /out/etc/passwd \
 && echo 'hearth:x:10001:' > /out/etc/group

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
# Go reads time zones from this zip when the system has none (scratch has none).
COPY --from=build /usr/local/go/lib/time/zoneinfo.zip /zoneinfo.zip
COPY --from=build /out/etc/passwd /out/etc/group /etc/
COPY --from=build --chown=10001:10001 /out/pb_data /pb_data
COPY --from=build /out/hearth /hearth
COPY pb_hooks /pb_hooks
ENV ZONEINFO=/zoneinfo.zip \
    HEARTH_DATA_DIR=/pb_data \
    HEARTH_HOOKS_DIR=/pb_hooks \
    HEARTH_HTTP=0.0.0.0:8090
USER 10001:10001
VOLUME /pb_data
EXPOSE 8090
# The probe is the binary itself (no shell or curl here); it skips
# PocketBase's bootstrap and only calls GET /api/health.
HEALTHCHECK --interval=5s --timeout=5s --start-period=30s --retries=3 CMD ["/hearth", "healthcheck"]
ENTRYPOINT ["/hearth"]
CMD ["serve"]
